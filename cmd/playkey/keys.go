package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"
	"time"

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
			{name: "rotate", summary: "replace a key pair without breaking viewers: import a new one beside it, later delete it", run: runKeysRotate},
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
	if err := refuseExisting(*priv, *pub); err != nil {
		return err
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
	if err := saveKeyFiles(ctx, client, *priv, *pub, k, out.KeyPair); err != nil {
		return err
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

// maxKeyPairs is IVS's fixed quota of playback key pairs per account and region.
const maxKeyPairs = 3

func runKeysRotate(ctx context.Context, std *stdio, args []string) error {
	var priv, pub, publicKey, name string
	var deleteAfter time.Duration
	var metricsURLs stringList
	af, client, rest, err := clientCommand(ctx, std, "keys rotate", "OLD_ARN", args, func(fs *flag.FlagSet) {
		fs.StringVar(&priv, "o", "", "write the new private key (PEM, mode 0600) to `FILE` (required unless --public-key)")
		fs.StringVar(&pub, "public-out", "", "also write the new public key to `FILE`")
		fs.StringVar(&publicKey, "public-key", "", "import this public key PEM `FILE` instead of generating a key pair (its private half stays where it is)")
		fs.StringVar(&name, "name", "", "the new key pair's `NAME` (default: the old one's)")
		fs.DurationVar(&deleteAfter, "delete-old-after", -1, "then wait `DURATION` (at least the longest lifetime of the tokens signed with the old key) and delete the old key pair; without it the old key pair stays")
		fs.Var(&metricsURLs, "metrics-url", "with --delete-old-after, also wait until the old key has verified no token for DURATION on the playkey gate whose Prometheus metrics are at `URL` (http://HOST:PORT/metrics of its --metrics-addr); repeat for every gate")
	})
	if err != nil {
		return err
	}
	if len(metricsURLs) > 0 && deleteAfter < 0 {
		return usageErrorf("--metrics-url needs --delete-old-after DURATION")
	}
	for _, u := range metricsURLs {
		if !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
			return usageErrorf("--metrics-url %q: want http://HOST:PORT/metrics", u)
		}
	}
	if (priv == "") == (publicKey == "") {
		return usageErrorf("keys rotate needs exactly one of -o FILE (generate) and --public-key FILE (import)")
	}
	oldARN := rest[0]
	old, err := client.GetPlaybackKeyPair(ctx, &ivs.GetPlaybackKeyPairInput{Arn: aws.String(oldARN)})
	if err != nil {
		return apiError(err)
	}
	// Refuse before generating anything: the new key must sit beside the old one while
	// tokens signed with either are in use.
	var arns []string
	p := ivs.NewListPlaybackKeyPairsPaginator(client, &ivs.ListPlaybackKeyPairsInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return apiError(err)
		}
		for _, kp := range page.KeyPairs {
			arns = append(arns, aws.ToString(kp.Arn))
		}
	}
	if len(arns) >= maxKeyPairs {
		return noFreeSlot(oldARN, arns)
	}
	if err := refuseExisting(priv, pub); err != nil {
		return err
	}
	var material []byte
	var key *ecdsa.PrivateKey
	if publicKey != "" {
		if material, err = os.ReadFile(publicKey); err != nil {
			return err
		}
	} else {
		if key, err = keypair.Generate(); err != nil {
			return err
		}
		if material, err = keypair.MarshalPublicKeyPEM(&key.PublicKey); err != nil {
			return err
		}
	}
	if name == "" {
		name = aws.ToString(old.KeyPair.Name)
	}
	out, err := client.ImportPlaybackKeyPair(ctx, &ivs.ImportPlaybackKeyPairInput{
		PublicKeyMaterial: aws.String(string(material)),
		Name:              nonEmpty(name),
		Tags:              old.KeyPair.Tags,
	})
	var quota *types.ServiceQuotaExceededException
	if errors.As(err, &quota) {
		return noFreeSlot(oldARN, arns) // another key pair was imported meanwhile
	}
	if err != nil {
		return apiError(err)
	}
	newARN := aws.ToString(out.KeyPair.Arn)
	if key != nil {
		if err := saveKeyFiles(ctx, client, priv, pub, key, out.KeyPair); err != nil {
			return err
		}
	}
	if err := printKeyPair(std, af, out.KeyPair); err != nil {
		return err
	}
	fmt.Fprintf(std.err, "new key pair %s imported; %s still verifies tokens.\n", newARN, oldARN)
	if key != nil {
		fmt.Fprintf(std.err, "now make your token signer sign with %s (the key file your backend loads, or playkey token sign --key %s);\n", priv, priv)
	} else {
		fmt.Fprintf(std.err, "now make your token signer sign with the private key of %s;\n", publicKey)
	}
	fmt.Fprintf(std.err, "tokens need no key id: the gate tries every key pair of the account and region.\n")
	if deleteAfter < 0 {
		fmt.Fprintf(std.err, "once no token signed with the old key can still be in use, run: playkey keys delete %s\n", oldARN)
		return nil
	}
	interrupted := fmt.Errorf("interrupted; %s was not deleted (run: playkey keys delete %s)", oldARN, oldARN)
	if len(metricsURLs) > 0 {
		fmt.Fprintf(std.err, "deleting %s once it has verified no token for %s on %d gate(s), %s at the earliest\n",
			oldARN, deleteAfter, len(metricsURLs), time.Now().Add(deleteAfter).UTC().Format(time.RFC3339))
		if err := waitUnused(ctx, std, metricsURLs, oldARN, time.Now(), deleteAfter); err != nil {
			return interrupted
		}
	} else {
		fmt.Fprintf(std.err, "deleting %s in %s (at %s)\n", oldARN, deleteAfter, time.Now().Add(deleteAfter).UTC().Format(time.RFC3339))
		t := time.NewTimer(deleteAfter)
		defer t.Stop()
		select {
		case <-ctx.Done():
			return interrupted
		case <-t.C:
		}
	}
	if _, err := client.DeletePlaybackKeyPair(ctx, &ivs.DeletePlaybackKeyPairInput{Arn: aws.String(oldARN)}); err != nil {
		return fmt.Errorf("deleting the old key pair: %w", apiError(err))
	}
	fmt.Fprintf(std.err, "deleted %s; tokens signed with it no longer start playback\n", oldARN)
	return nil
}

// noFreeSlot is the refusal when the region already holds IVS's maximum of key pairs.
func noFreeSlot(oldARN string, arns []string) error {
	var others []string
	for _, a := range arns {
		if a != oldARN {
			others = append(others, a)
		}
	}
	return fmt.Errorf("no free key pair slot: the account and region hold %d key pairs, IVS's maximum, and the new key must sit beside %s while its tokens are in use; delete one of the others first (%s)",
		len(arns), oldARN, strings.Join(others, ", "))
}

// refuseExisting fails if any of the named files (empty names skipped) exists: key files
// are never overwritten.
func refuseExisting(paths ...string) error {
	for _, p := range paths {
		if p == "" {
			continue
		}
		if _, err := os.Lstat(p); err == nil {
			return fmt.Errorf("%s already exists; not overwriting it", p)
		}
	}
	return nil
}

// saveKeyFiles writes the key pair just imported as kp; if that fails, the service holds a
// public key whose private half is lost, so it is taken back out.
func saveKeyFiles(ctx context.Context, client *ivs.Client, priv, pub string, k *ecdsa.PrivateKey, kp *types.PlaybackKeyPair) error {
	err := keypair.WriteKeyFiles(priv, pub, k)
	if err == nil {
		return nil
	}
	if _, derr := client.DeletePlaybackKeyPair(ctx, &ivs.DeletePlaybackKeyPairInput{Arn: kp.Arn}); derr != nil {
		return fmt.Errorf("%w (and deleting the imported key pair %s failed: %v)", err, aws.ToString(kp.Arn), apiError(derr))
	}
	return fmt.Errorf("%w (the imported key pair was deleted again)", err)
}
