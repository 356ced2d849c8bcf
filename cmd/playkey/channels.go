package main

import (
	"context"
	"flag"
	"fmt"
	"strconv"
	"text/tabwriter"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ivs"
	"github.com/aws/aws-sdk-go-v2/service/ivs/types"

	"github.com/playkey/playkey"
)

var channelsCommand = &command{
	name:    "channels",
	summary: "manage channels through the IVS API (playkey or real IVS)",
	run: func(ctx context.Context, std *stdio, args []string) error {
		return subcommands(ctx, std, "channels", args, []*command{
			{name: "create", summary: "create a channel and its stream key", run: runChannelsCreate},
			{name: "list", summary: "list the channels of the account and region", run: runChannelsList},
			{name: "get", summary: "show one channel", run: runChannelsGet},
			{name: "update", summary: "change a channel's settings", run: runChannelsUpdate},
			{name: "delete", summary: "delete a channel and its stream key", run: runChannelsDelete},
			{name: "revoke", summary: "revoke a viewer's playback sessions on a channel", run: runChannelsRevoke},
		})
	},
}

// channelFlags are the settings create and update share. Empty strings are unset.
type channelFlags struct {
	name, latencyMode, channelType, policy string
}

func (f *channelFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.name, "name", "", "channel `NAME`")
	fs.StringVar(&f.latencyMode, "latency-mode", "", "`MODE`: LOW (IVS's default) or NORMAL")
	fs.StringVar(&f.channelType, "type", "", "channel `TYPE`: BASIC, STANDARD (IVS's default), ADVANCED_SD or ADVANCED_HD")
	fs.StringVar(&f.policy, "policy", "", "playback restriction policy `ARN`")
}

func runChannelsCreate(ctx context.Context, std *stdio, args []string) error {
	var cf channelFlags
	var private bool
	var tags stringList
	af, client, _, err := clientCommand(ctx, std, "channels create", "", args, func(fs *flag.FlagSet) {
		cf.register(fs)
		fs.BoolVar(&private, "private", false, "make playback private: viewers need a playback authorization token")
		fs.Var(&tags, "tag", "`KEY=VALUE` tag (repeatable)")
	})
	if err != nil {
		return err
	}
	tagMap, err := parseTags(tags)
	if err != nil {
		return err
	}
	out, err := client.CreateChannel(ctx, &ivs.CreateChannelInput{
		Name:                         nonEmpty(cf.name),
		Authorized:                   private,
		LatencyMode:                  types.ChannelLatencyMode(cf.latencyMode),
		Type:                         types.ChannelType(cf.channelType),
		PlaybackRestrictionPolicyArn: nonEmpty(cf.policy),
		Tags:                         tagMap,
	})
	if err != nil {
		return apiError(err)
	}
	if af.output == outputJSON {
		return af.printResponse(std)
	}
	if err := showChannel(std, af, out.Channel); err != nil {
		return err
	}
	fmt.Fprintf(std.out, "stream key:    %s\n", aws.ToString(out.StreamKey.Arn))
	fmt.Fprintf(std.out, "stream value:  %s\n", aws.ToString(out.StreamKey.Value))
	return nil
}

func runChannelsList(ctx context.Context, std *stdio, args []string) error {
	var name, policy string
	af, client, _, err := clientCommand(ctx, std, "channels list", "", args, func(fs *flag.FlagSet) {
		fs.StringVar(&name, "name", "", "only channels with this `NAME`")
		fs.StringVar(&policy, "policy", "", "only channels with this playback restriction policy `ARN`")
	})
	if err != nil {
		return err
	}
	var all []types.ChannelSummary
	p := ivs.NewListChannelsPaginator(client, &ivs.ListChannelsInput{FilterByName: nonEmpty(name), FilterByPlaybackRestrictionPolicyArn: nonEmpty(policy)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return apiError(err)
		}
		all = append(all, page.Channels...)
	}
	if af.output == outputJSON {
		return af.printPages(std, "channels")
	}
	return channelTable(std, all)
}

// channelTable prints channels one to a row.
func channelTable(std *stdio, channels []types.ChannelSummary) error {
	tw := tabwriter.NewWriter(std.out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ARN\tNAME\tTYPE\tLATENCY\tPRIVATE\tPOLICY\tTAGS")
	for _, c := range channels {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", aws.ToString(c.Arn), orDash(aws.ToString(c.Name)), c.Type, c.LatencyMode,
			yesNo(c.Authorized), orDash(aws.ToString(c.PlaybackRestrictionPolicyArn)), formatTags(c.Tags))
	}
	return tw.Flush()
}

func runChannelsGet(ctx context.Context, std *stdio, args []string) error {
	return withARN(ctx, std, "channels get", args, func(ctx context.Context, af *apiFlags, client *ivs.Client, arn string) error {
		out, err := client.GetChannel(ctx, &ivs.GetChannelInput{Arn: aws.String(arn)})
		if err != nil {
			return apiError(err)
		}
		return showChannel(std, af, out.Channel)
	})
}

func runChannelsUpdate(ctx context.Context, std *stdio, args []string) error {
	var cf channelFlags
	var private, public, noPolicy bool
	af, client, rest, err := clientCommand(ctx, std, "channels update", "ARN", args, func(fs *flag.FlagSet) {
		cf.register(fs)
		fs.BoolVar(&private, "private", false, "make playback private (playback authorization tokens required)")
		fs.BoolVar(&public, "public", false, "make playback public")
		fs.BoolVar(&noPolicy, "no-policy", false, "remove the playback restriction policy")
	})
	if err != nil {
		return err
	}
	if private && public {
		return usageErrorf("--private and --public contradict each other")
	}
	if noPolicy && cf.policy != "" {
		return usageErrorf("--policy and --no-policy contradict each other")
	}
	in := &ivs.UpdateChannelInput{
		Arn:                          aws.String(rest[0]),
		Name:                         nonEmpty(cf.name),
		LatencyMode:                  types.ChannelLatencyMode(cf.latencyMode),
		Type:                         types.ChannelType(cf.channelType),
		PlaybackRestrictionPolicyArn: nonEmpty(cf.policy),
		Authorized:                   private,
	}
	if noPolicy {
		in.PlaybackRestrictionPolicyArn = aws.String("")
	}
	var opts []func(*ivs.Options)
	if public {
		opts = append(opts, sendMembers(map[string]any{"authorized": false}))
	}
	out, err := client.UpdateChannel(ctx, in, opts...)
	if err != nil {
		return apiError(err)
	}
	return showChannel(std, af, out.Channel)
}

func runChannelsDelete(ctx context.Context, std *stdio, args []string) error {
	return withARN(ctx, std, "channels delete", args, func(ctx context.Context, af *apiFlags, client *ivs.Client, arn string) error {
		if _, err := client.DeleteChannel(ctx, &ivs.DeleteChannelInput{Arn: aws.String(arn)}); err != nil {
			return apiError(err)
		}
		if af.output == outputJSON {
			return af.printResponse(std)
		}
		fmt.Fprintf(std.out, "deleted %s and its stream key\n", arn)
		return nil
	})
}

func runChannelsRevoke(ctx context.Context, std *stdio, args []string) error {
	var viewer, upTo string
	af, client, rest, err := clientCommand(ctx, std, "channels revoke", "ARN", args, func(fs *flag.FlagSet) {
		fs.StringVar(&viewer, "viewer-id", "", "the aws:viewer-id of the sessions to revoke (required)")
		fs.StringVar(&upTo, "up-to", "0", "revoke the sessions whose aws:viewer-session-version is at most `N`")
	})
	if err != nil {
		return err
	}
	if viewer == "" {
		return usageErrorf("channels revoke needs --viewer-id")
	}
	n, err := strconv.ParseInt(upTo, 10, 32)
	if err != nil || n < 0 {
		return usageErrorf("--up-to %q: want an integer from 0 to 2147483647", upTo)
	}
	if _, err := client.StartViewerSessionRevocation(ctx, &ivs.StartViewerSessionRevocationInput{
		ChannelArn:                             aws.String(rest[0]),
		ViewerId:                               aws.String(viewer),
		ViewerSessionVersionsLessThanOrEqualTo: int32(n),
	}); err != nil {
		return apiError(err)
	}
	if af.output == outputJSON {
		return af.printResponse(std)
	}
	fmt.Fprintf(std.out, "revoked the sessions of viewer %q with versions up to %d on %s\n", viewer, n, rest[0])
	return nil
}

// showChannel prints the channel an API call returned in the format af asks for.
func showChannel(std *stdio, af *apiFlags, c *types.Channel) error {
	switch af.output {
	case outputJSON:
		return af.printResponse(std)
	case outputTable:
		return channelTable(std, []types.ChannelSummary{{Arn: c.Arn, Name: c.Name, Type: c.Type, LatencyMode: c.LatencyMode,
			Authorized: c.Authorized, PlaybackRestrictionPolicyArn: c.PlaybackRestrictionPolicyArn, Tags: c.Tags}})
	}
	printChannel(std, c)
	return nil
}

func printChannel(std *stdio, c *types.Channel) {
	fmt.Fprintf(std.out, "arn:           %s\n", aws.ToString(c.Arn))
	fmt.Fprintf(std.out, "name:          %s\n", orDash(aws.ToString(c.Name)))
	if c.Preset != "" {
		fmt.Fprintf(std.out, "type:          %s %s\n", c.Type, c.Preset)
	} else {
		fmt.Fprintf(std.out, "type:          %s\n", c.Type)
	}
	fmt.Fprintf(std.out, "latency mode:  %s\n", c.LatencyMode)
	fmt.Fprintf(std.out, "private:       %s\n", yesNo(c.Authorized))
	fmt.Fprintf(std.out, "policy:        %s\n", orDash(aws.ToString(c.PlaybackRestrictionPolicyArn)))
	fmt.Fprintf(std.out, "playback URL:  %s\n", aws.ToString(c.PlaybackUrl))
	fmt.Fprintf(std.out, "ingest:        %s\n", playkey.IngestServerURL(aws.ToString(c.IngestEndpoint)))
	fmt.Fprintf(std.out, "tags:          %s\n", formatTags(c.Tags))
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
