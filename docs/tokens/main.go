// Command tokens is the Go recipe of docs/tokens.md: it signs an IVS playback authorization
// token with the token package, as a backend does for each viewer.
//
//	go run ./docs/tokens PRIVATE_KEY.pem CHANNEL_ARN VIEWER_ID
package main

import (
	"fmt"
	"os"
	"time"

	"github.com/playkey/playkey/keypair"
	"github.com/playkey/playkey/token"
)

// playbackToken signs a token that lets one viewer start playing one private channel
// within the next 5 minutes. aws:viewer-id makes the viewer's sessions revocable, and
// IVS then wants exp within 10 minutes.
func playbackToken(privateKeyPEM []byte, channelARN, viewerID string) (string, error) {
	key, err := keypair.ParsePrivateKeyPEM(privateKeyPEM)
	if err != nil {
		return "", err
	}
	return token.Sign(token.Claims{
		ChannelARN: channelARN,
		ViewerID:   viewerID,
		Exp:        time.Now().Add(5 * time.Minute).Unix(),
	}, key)
}

func main() {
	if len(os.Args) != 4 {
		fmt.Fprintln(os.Stderr, "usage: tokens PRIVATE_KEY.pem CHANNEL_ARN VIEWER_ID")
		os.Exit(2)
	}
	pemBytes, err := os.ReadFile(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	tok, err := playbackToken(pemBytes, os.Args[2], os.Args[3])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(tok)
}
