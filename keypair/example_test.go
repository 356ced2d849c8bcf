package keypair_test

import (
	"fmt"
	"os"

	"github.com/playkey/playkey/keypair"
)

func ExampleParsePublicKeyPEM() {
	material, err := os.ReadFile("testdata/p384.pem")
	if err != nil {
		panic(err)
	}
	_, der, err := keypair.ParsePublicKeyPEM(string(material))
	if err != nil {
		panic(err)
	}
	fmt.Println(keypair.Fingerprint(der))
	// Output: ad:17:31:66:da:3b:71:6b:48:63:c1:88:b3:c7:6b:8e
}

func ExampleParsePublicKeyPEM_rejected() {
	material, err := os.ReadFile("testdata/p256.pem")
	if err != nil {
		panic(err)
	}
	_, _, err = keypair.ParsePublicKeyPEM(string(material))
	fmt.Println(err)
	// Output: ValidationException: Request member: publicKeyMaterial failed to satisfy the constraints: the key is on curve P-256; IVS playback keys must be ECDSA P-384 (secp384r1)
}
