package main

import (
	"context"
	"crypto/x509"
	"fmt"
	"os"
	"text/tabwriter"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ivs"
	"github.com/aws/aws-sdk-go-v2/service/ivs/types"

	"github.com/playkey/playkey/keypair"
)

var keygenCommand = &command{
	name:    "keygen",
	summary: "generate a P-384 playback key pair into PEM files (offline)",
	run:     runKeygen,
}

func runKeygen(ctx context.Context, std *stdio, args []string) error {
	fs := newFlagSet(std, "keygen", "")
	priv := fs.String("o", "", "write the private key (SEC1 PEM, mode 0600) to `FILE` (required)")
	pub := fs.String("public-out", "", "also write the public key (SubjectPublicKeyInfo PEM) to `FILE`")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 || *priv == "" {
		fs.Usage()
		return usageErrorf("keygen needs -o FILE and no arguments")
	}
	k, err := keypair.Generate()
	if err != nil {
		return err
	}
	if err := keypair.WriteKeyFiles(*priv, *pub, k); err != nil {
		return err
	}
	der, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	if err != nil {
		return err
	}
	fmt.Fprintf(std.out, "private key: %s\n", *priv)
	if *pub != "" {
		fmt.Fprintf(std.out, "public key:  %s\n", *pub)
	}
	fmt.Fprintf(std.out, "fingerprint: %s\n", keypair.Fingerprint(der))
	return nil
}

var keysCommand = &command{
	name:    "keys",
	summary: "manage playback key pairs through the IVS API (playkey or real IVS)",
	run: func(ctx context.Context, std *stdio, args []string) error {
		return subcommands(ctx, std, "keys", args, []*command{
			{name: "create", summary: "generate a key pair locally, import its public half, save the private key", run: runKeysCreate},
			{name: "import", summary: "import a public key PEM file", run: runKeysImport},
			{name: "list", summary: "list the key pairs of the account and region", run: runKeysList},
			{name: "get", summary: "show one key pair", run: runKeysGet},
			{name: "delete", summary: "delete a key pair", run: runKeysDelete},
		})
	},
}

func runKeysCreate(ctx context.Context, std *stdio, args []string) error {
	var af apiFlags
	fs := newFlagSet(std, "keys create", "")
	af.register(fs)
	name := fs.String("name", "", "key pair `NAME`")
	priv := fs.String("o", "", "write the private key (PEM, mode 0600) to `FILE` (required)")
	pub := fs.String("public-out", "", "also write the public key to `FILE`")
	var tags stringList
	fs.Var(&tags, "tag", "`KEY=VALUE` tag (repeatable)")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 || *priv == "" {
		fs.Usage()
		return usageErrorf("keys create needs -o FILE and no arguments")
	}
	tagMap, err := parseTags(tags)
	if err != nil {
		return err
	}
	client, err := af.client(ctx)
	if err != nil {
		return err
	}
	// Refuse before importing: a key whose private half cannot be saved is useless.
	for _, p := range []string{*priv, *pub} {
		if p == "" {
			continue
		}
		if _, err := os.Lstat(p); err == nil {
			return fmt.Errorf("%s already exists; not overwriting it", p)
		}
	}
	k, err := keypair.Generate()
	if err != nil {
		return err
	}
	pubPEM, err := keypair.MarshalPublicKeyPEM(&k.PublicKey)
	if err != nil {
		return err
	}
	out, err := client.ImportPlaybackKeyPair(ctx, &ivs.ImportPlaybackKeyPairInput{
		PublicKeyMaterial: aws.String(string(pubPEM)),
		Name:              nonEmpty(*name),
		Tags:              tagMap,
	})
	if err != nil {
		return apiError(err)
	}
	if err := keypair.WriteKeyFiles(*priv, *pub, k); err != nil {
		// The service holds a public key whose private half is lost: take it back out.
		if _, derr := client.DeletePlaybackKeyPair(ctx, &ivs.DeletePlaybackKeyPairInput{Arn: out.KeyPair.Arn}); derr != nil {
			return fmt.Errorf("%w (and deleting the imported key pair %s failed: %v)", err, aws.ToString(out.KeyPair.Arn), apiError(derr))
		}
		return fmt.Errorf("%w (the imported key pair was deleted again)", err)
	}
	fmt.Fprintf(std.err, "private key written to %s; the service never sees it and it cannot be retrieved later\n", *priv)
	return printKeyPair(std, &af, out.KeyPair)
}

func runKeysImport(ctx context.Context, std *stdio, args []string) error {
	var af apiFlags
	fs := newFlagSet(std, "keys import", "PUBLIC_KEY.pem")
	af.register(fs)
	name := fs.String("name", "", "key pair `NAME`")
	var tags stringList
	fs.Var(&tags, "tag", "`KEY=VALUE` tag (repeatable)")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		fs.Usage()
		return usageErrorf("keys import takes one public key file")
	}
	tagMap, err := parseTags(tags)
	if err != nil {
		return err
	}
	material, err := os.ReadFile(rest[0])
	if err != nil {
		return err
	}
	client, err := af.client(ctx)
	if err != nil {
		return err
	}
	out, err := client.ImportPlaybackKeyPair(ctx, &ivs.ImportPlaybackKeyPairInput{
		PublicKeyMaterial: aws.String(string(material)),
		Name:              nonEmpty(*name),
		Tags:              tagMap,
	})
	if err != nil {
		return apiError(err)
	}
	return printKeyPair(std, &af, out.KeyPair)
}

func runKeysList(ctx context.Context, std *stdio, args []string) error {
	var af apiFlags
	fs := newFlagSet(std, "keys list", "")
	af.register(fs)
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usageErrorf("keys list takes no arguments")
	}
	client, err := af.client(ctx)
	if err != nil {
		return err
	}
	var all []types.PlaybackKeyPair
	p := ivs.NewListPlaybackKeyPairsPaginator(client, &ivs.ListPlaybackKeyPairsInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return apiError(err)
		}
		if af.output == outputJSON {
			continue // printed as the list calls answered
		}
		// The list omits fingerprints; a region holds at most 3 key pairs, so fetch each.
		for _, s := range page.KeyPairs {
			got, err := client.GetPlaybackKeyPair(ctx, &ivs.GetPlaybackKeyPairInput{Arn: s.Arn})
			if err != nil {
				return apiError(err)
			}
			all = append(all, *got.KeyPair)
		}
	}
	if af.output == outputJSON {
		return af.printPages(std, "keyPairs")
	}
	return keyPairTable(std, all)
}

// keyPairTable prints key pairs one to a row.
func keyPairTable(std *stdio, kps []types.PlaybackKeyPair) error {
	tw := tabwriter.NewWriter(std.out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ARN\tNAME\tFINGERPRINT\tTAGS")
	for _, kp := range kps {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", aws.ToString(kp.Arn), orDash(aws.ToString(kp.Name)), aws.ToString(kp.Fingerprint), formatTags(kp.Tags))
	}
	return tw.Flush()
}

func runKeysGet(ctx context.Context, std *stdio, args []string) error {
	return withARN(ctx, std, "keys get", args, func(ctx context.Context, af *apiFlags, client *ivs.Client, arn string) error {
		out, err := client.GetPlaybackKeyPair(ctx, &ivs.GetPlaybackKeyPairInput{Arn: aws.String(arn)})
		if err != nil {
			return apiError(err)
		}
		return printKeyPair(std, af, out.KeyPair)
	})
}

func runKeysDelete(ctx context.Context, std *stdio, args []string) error {
	return withARN(ctx, std, "keys delete", args, func(ctx context.Context, af *apiFlags, client *ivs.Client, arn string) error {
		if _, err := client.DeletePlaybackKeyPair(ctx, &ivs.DeletePlaybackKeyPairInput{Arn: aws.String(arn)}); err != nil {
			return apiError(err)
		}
		if af.output == outputJSON {
			return af.printResponse(std)
		}
		fmt.Fprintf(std.out, "deleted %s\n", arn)
		return nil
	})
}

// printKeyPair prints the key pair an API call returned in the format af asks for.
func printKeyPair(std *stdio, af *apiFlags, kp *types.PlaybackKeyPair) error {
	switch af.output {
	case outputJSON:
		return af.printResponse(std)
	case outputTable:
		return keyPairTable(std, []types.PlaybackKeyPair{*kp})
	}
	fmt.Fprintf(std.out, "arn:         %s\n", aws.ToString(kp.Arn))
	fmt.Fprintf(std.out, "name:        %s\n", aws.ToString(kp.Name))
	fmt.Fprintf(std.out, "fingerprint: %s\n", aws.ToString(kp.Fingerprint))
	if len(kp.Tags) > 0 {
		fmt.Fprintf(std.out, "tags:        %s\n", formatTags(kp.Tags))
	}
	return nil
}
