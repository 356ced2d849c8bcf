package main

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"reflect"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/ivs"
	"github.com/aws/aws-sdk-go-v2/service/ivs/types"
	"github.com/aws/smithy-go"

	"github.com/playkey/playkey/keypair"
)

var keygenCommand = &command{
	name:    "keygen",
	summary: "generate a P-384 playback key pair into PEM files (offline)",
	run:     runKeygen,
}

func runKeygen(ctx context.Context, io *stdio, args []string) error {
	fs := newFlagSet(io, "keygen", "")
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
	fmt.Fprintf(io.out, "private key: %s\n", *priv)
	if *pub != "" {
		fmt.Fprintf(io.out, "public key:  %s\n", *pub)
	}
	fmt.Fprintf(io.out, "fingerprint: %s\n", keypair.Fingerprint(der))
	return nil
}

var keysCommand = &command{
	name:    "keys",
	summary: "manage playback key pairs through the IVS API (playkey or real IVS)",
	run: func(ctx context.Context, io *stdio, args []string) error {
		return subcommands(ctx, io, "keys", args, []*command{
			{name: "create", summary: "generate a key pair locally, import its public half, save the private key", run: runKeysCreate},
			{name: "import", summary: "import a public key PEM file", run: runKeysImport},
			{name: "list", summary: "list the key pairs of the account and region", run: runKeysList},
			{name: "get", summary: "show one key pair", run: runKeysGet},
			{name: "delete", summary: "delete a key pair", run: runKeysDelete},
		})
	},
}

// apiFlags are the flags every API client command shares. With none set, the standard AWS
// configuration applies (environment, shared config and credentials files), so the same
// commands work against real IVS.
type apiFlags struct {
	endpoint string
	region   string
	profile  string
	output   string
}

func (f *apiFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.endpoint, "endpoint-url", os.Getenv("PLAYKEY_ENDPOINT_URL"), "API endpoint `URL`, e.g. http://127.0.0.1:8080 (default: $PLAYKEY_ENDPOINT_URL, else AWS's)")
	fs.StringVar(&f.region, "region", "", "AWS `REGION` (default: from the AWS configuration)")
	fs.StringVar(&f.profile, "profile", "", "AWS shared-config `PROFILE`")
	fs.StringVar(&f.output, "output", "text", "output format: text or json")
}

func (f *apiFlags) client(ctx context.Context) (*ivs.Client, error) {
	if f.output != "text" && f.output != "json" {
		return nil, usageErrorf("--output %q: want text or json", f.output)
	}
	var opts []func(*config.LoadOptions) error
	if f.region != "" {
		opts = append(opts, config.WithRegion(f.region))
	}
	if f.profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(f.profile))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		return nil, errors.New("no AWS region: pass --region or set AWS_REGION")
	}
	return ivs.NewFromConfig(cfg, func(o *ivs.Options) {
		if f.endpoint != "" {
			o.BaseEndpoint = aws.String(f.endpoint)
		}
	}), nil
}

// apiError shortens an SDK error to the service's code and message.
func apiError(err error) error {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return fmt.Errorf("%s: %s", ae.ErrorCode(), errorMessage(ae))
	}
	return err
}

// errorMessage returns an IVS error's text. The IVS model names its message member
// exceptionMessage, and the SDK's typed errors keep it in an ExceptionMessage field that
// ErrorMessage() does not return; every typed error has that field.
func errorMessage(ae smithy.APIError) string {
	if v := reflect.ValueOf(ae); v.Kind() == reflect.Pointer && v.Elem().Kind() == reflect.Struct {
		if f := v.Elem().FieldByName("ExceptionMessage"); f.IsValid() && f.Kind() == reflect.Pointer && !f.IsNil() {
			if msg, ok := f.Elem().Interface().(string); ok && msg != "" {
				return msg
			}
		}
	}
	return ae.ErrorMessage()
}

func runKeysCreate(ctx context.Context, io *stdio, args []string) error {
	var af apiFlags
	fs := newFlagSet(io, "keys create", "")
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
	fmt.Fprintf(io.err, "private key written to %s; the service never sees it and it cannot be retrieved later\n", *priv)
	return printKeyPair(io, af.output, out.KeyPair)
}

func runKeysImport(ctx context.Context, io *stdio, args []string) error {
	var af apiFlags
	fs := newFlagSet(io, "keys import", "PUBLIC_KEY.pem")
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
	return printKeyPair(io, af.output, out.KeyPair)
}

func runKeysList(ctx context.Context, io *stdio, args []string) error {
	var af apiFlags
	fs := newFlagSet(io, "keys list", "")
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
		// The list omits fingerprints; a region holds at most 3 key pairs, so fetch each.
		for _, s := range page.KeyPairs {
			got, err := client.GetPlaybackKeyPair(ctx, &ivs.GetPlaybackKeyPairInput{Arn: s.Arn})
			if err != nil {
				return apiError(err)
			}
			all = append(all, *got.KeyPair)
		}
	}
	if af.output == "json" {
		return printJSON(io, map[string]any{"keyPairs": all})
	}
	tw := tabwriter.NewWriter(io.out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ARN\tNAME\tFINGERPRINT\tTAGS")
	for _, kp := range all {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", aws.ToString(kp.Arn), aws.ToString(kp.Name), aws.ToString(kp.Fingerprint), formatTags(kp.Tags))
	}
	return tw.Flush()
}

func runKeysGet(ctx context.Context, io *stdio, args []string) error {
	return withARN(ctx, io, "keys get", args, func(ctx context.Context, af *apiFlags, client *ivs.Client, arn string) error {
		out, err := client.GetPlaybackKeyPair(ctx, &ivs.GetPlaybackKeyPairInput{Arn: aws.String(arn)})
		if err != nil {
			return apiError(err)
		}
		return printKeyPair(io, af.output, out.KeyPair)
	})
}

func runKeysDelete(ctx context.Context, io *stdio, args []string) error {
	return withARN(ctx, io, "keys delete", args, func(ctx context.Context, af *apiFlags, client *ivs.Client, arn string) error {
		if _, err := client.DeletePlaybackKeyPair(ctx, &ivs.DeletePlaybackKeyPairInput{Arn: aws.String(arn)}); err != nil {
			return apiError(err)
		}
		fmt.Fprintf(io.out, "deleted %s\n", arn)
		return nil
	})
}

// withARN runs a command that takes the API flags and exactly one ARN.
func withARN(ctx context.Context, io *stdio, name string, args []string, f func(context.Context, *apiFlags, *ivs.Client, string) error) error {
	var af apiFlags
	fs := newFlagSet(io, name, "ARN")
	af.register(fs)
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		fs.Usage()
		return usageErrorf("%s takes one ARN", name)
	}
	client, err := af.client(ctx)
	if err != nil {
		return err
	}
	return f(ctx, &af, client, rest[0])
}

func printKeyPair(io *stdio, output string, kp *types.PlaybackKeyPair) error {
	if output == "json" {
		return printJSON(io, map[string]any{"keyPair": kp})
	}
	fmt.Fprintf(io.out, "arn:         %s\n", aws.ToString(kp.Arn))
	fmt.Fprintf(io.out, "name:        %s\n", aws.ToString(kp.Name))
	fmt.Fprintf(io.out, "fingerprint: %s\n", aws.ToString(kp.Fingerprint))
	if len(kp.Tags) > 0 {
		fmt.Fprintf(io.out, "tags:        %s\n", formatTags(kp.Tags))
	}
	return nil
}

func printJSON(io *stdio, v any) error {
	enc := json.NewEncoder(io.out)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func parseTags(list []string) (map[string]string, error) {
	if len(list) == 0 {
		return nil, nil
	}
	m := make(map[string]string, len(list))
	for _, t := range list {
		k, v, ok := strings.Cut(t, "=")
		if !ok || k == "" {
			return nil, usageErrorf("--tag %q: want KEY=VALUE", t)
		}
		m[k] = v
	}
	return m, nil
}

func formatTags(tags map[string]string) string {
	if len(tags) == 0 {
		return "-"
	}
	parts := make([]string, 0, len(tags))
	for k, v := range tags {
		parts = append(parts, k+"="+v)
	}
	slices.Sort(parts)
	return strings.Join(parts, ",")
}

func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
