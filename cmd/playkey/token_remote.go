package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// remoteVerdict is the answer of playkey's VerifyPlaybackToken operation.
type remoteVerdict struct {
	Valid      bool            `json:"valid"`
	Code       string          `json:"code"`
	Reason     string          `json:"reason"`
	Claims     json.RawMessage `json:"claims,omitempty"`
	KeyPairARN string          `json:"keyPairArn"`
	ChannelARN string          `json:"channelArn"`
}

// verifyRemote asks a running playkey server whether tok would play channel: the server
// checks it against the account's stored keys, the channel, the revocations and the
// single-use records (without spending it). The request is signed with SigV4 like every
// API call, with the standard AWS credential chain.
func verifyRemote(ctx context.Context, std *stdio, af *apiFlags, channel, tok string) error {
	client, err := af.client(ctx)
	if err != nil {
		return err
	}
	opts := client.Options()
	if opts.BaseEndpoint == nil || *opts.BaseEndpoint == "" {
		return usageErrorf("--endpoint-url is required: real IVS has no VerifyPlaybackToken operation")
	}
	creds, err := opts.Credentials.Retrieve(ctx)
	if err != nil {
		return fmt.Errorf("AWS credentials: %w", err)
	}
	body, err := json.Marshal(map[string]string{"token": tok, "channelArn": channel})
	if err != nil {
		return err
	}
	endpoint := strings.TrimSuffix(*opts.BaseEndpoint, "/") + "/playkey/VerifyPlaybackToken"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		return usageErrorf("--endpoint-url: %v", err)
	}
	req.Header.Set("Content-Type", "application/json")
	sum := sha256.Sum256(body)
	if err := v4.NewSigner().SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), "ivs", opts.Region, time.Now()); err != nil {
		return fmt.Errorf("signing the request: %w", err)
	}
	httpClient := &http.Client{Timeout: 30 * time.Second}
	resp, err := httpClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Message string `json:"message"`
		}
		json.Unmarshal(raw, &e)
		if e.Message == "" {
			e.Message = resp.Status
		}
		return fmt.Errorf("%s: %s", resp.Header.Get("x-amzn-ErrorType"), e.Message)
	}
	var v remoteVerdict
	if err := json.Unmarshal(raw, &v); err != nil {
		return fmt.Errorf("the server's answer is not a verdict: %w", err)
	}
	if af.output == outputJSON {
		std.out.Write(append(bytes.TrimSpace(raw), '\n'))
	} else if v.Valid {
		fmt.Fprintf(std.out, "valid (server %s): %s\n", *opts.BaseEndpoint, v.Reason)
	}
	if !v.Valid {
		return &exitError{code: 1, msg: fmt.Sprintf("token rejected by the server (%s): %s", v.Code, v.Reason)}
	}
	return nil
}
