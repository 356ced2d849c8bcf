package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"reflect"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/ivs"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// The helpers every IVS API client command (keys, channels) shares.

// apiFlags are the flags every API client command shares. With none set, the standard AWS
// configuration applies (environment, shared config and credentials files), so the same
// commands work against real IVS.
type apiFlags struct {
	endpoint string
	region   string
	profile  string
	output   string

	responses *responseRecorder // the client's responses, for --output json
}

func (f *apiFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.endpoint, "endpoint-url", "", "API endpoint `URL`, e.g. http://127.0.0.1:8080 (default: AWS's)")
	fs.StringVar(&f.region, "region", "", "AWS `REGION` (default: from the AWS configuration)")
	fs.StringVar(&f.profile, "profile", "", "AWS shared-config `PROFILE`")
	fs.StringVar(&f.output, "output", outputText, "output `FORMAT`: text or table for people, json for programs (what aws ivs --output json prints for the same call)")
}

func (f *apiFlags) client(ctx context.Context) (*ivs.Client, error) {
	if f.output != outputText && f.output != outputTable && f.output != outputJSON {
		return nil, usageErrorf("--output %q: want text, table or json", f.output)
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
		f.responses = &responseRecorder{next: o.HTTPClient}
		o.HTTPClient = f.responses
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

// withARN runs a command that takes the API flags and exactly one ARN.
func withARN(ctx context.Context, std *stdio, name string, args []string, f func(context.Context, *apiFlags, *ivs.Client, string) error) error {
	af, client, rest, err := clientCommand(ctx, std, name, "ARN", args, nil)
	if err != nil {
		return err
	}
	return f(ctx, af, client, rest[0])
}

// clientCommand parses the command line of an API client command: the shared flags, those
// extra registers, and exactly as many positional arguments as argsUsage names (none when
// it is empty, else one). It returns the flags, a client and the positional arguments.
func clientCommand(ctx context.Context, std *stdio, name, argsUsage string, args []string, extra func(*flag.FlagSet)) (*apiFlags, *ivs.Client, []string, error) {
	var af apiFlags
	fs := newFlagSet(std, name, argsUsage)
	af.register(fs)
	if extra != nil {
		extra(fs)
	}
	rest, err := parseFlags(fs, args)
	if err != nil {
		return nil, nil, nil, err
	}
	if want := min(len(argsUsage), 1); len(rest) != want {
		fs.Usage()
		if want == 0 {
			return nil, nil, nil, usageErrorf("%s takes no arguments", name)
		}
		return nil, nil, nil, usageErrorf("%s takes one %s", name, argsUsage)
	}
	client, err := af.client(ctx)
	if err != nil {
		return nil, nil, nil, err
	}
	return &af, client, rest, nil
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

// sendMembers returns a per-call option that sets members of the JSON request body. The
// SDK leaves out every boolean that is false (the model's booleans default to false), so
// without it no request could say authorized=false and a private channel could never be
// made public again. It runs after the SDK's serializer and before signing.
func sendMembers(members map[string]any) func(*ivs.Options) {
	return func(o *ivs.Options) {
		o.APIOptions = append(o.APIOptions, func(stack *middleware.Stack) error {
			return stack.Serialize.Add(middleware.SerializeMiddlewareFunc("playkeySendMembers",
				func(ctx context.Context, in middleware.SerializeInput, next middleware.SerializeHandler) (middleware.SerializeOutput, middleware.Metadata, error) {
					req, ok := in.Request.(*smithyhttp.Request)
					if !ok {
						return middleware.SerializeOutput{}, middleware.Metadata{}, fmt.Errorf("unexpected request type %T", in.Request)
					}
					body := map[string]any{}
					if stream := req.GetStream(); stream != nil {
						data, err := io.ReadAll(stream)
						if err != nil {
							return middleware.SerializeOutput{}, middleware.Metadata{}, err
						}
						if len(bytes.TrimSpace(data)) > 0 {
							if err := json.Unmarshal(data, &body); err != nil {
								return middleware.SerializeOutput{}, middleware.Metadata{}, err
							}
						}
					}
					maps.Copy(body, members)
					data, err := json.Marshal(body)
					if err != nil {
						return middleware.SerializeOutput{}, middleware.Metadata{}, err
					}
					if req, err = req.SetStream(bytes.NewReader(data)); err != nil {
						return middleware.SerializeOutput{}, middleware.Metadata{}, err
					}
					in.Request = req
					return next.HandleSerialize(ctx, in)
				}), middleware.After)
		})
	}
}
