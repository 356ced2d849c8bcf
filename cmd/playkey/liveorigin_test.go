package main

import (
	"context"
	"net/url"
	"testing"

	"github.com/playkey/playkey"
)

// TestVirtualLocation: a live origin's redirect within its directory (MediaMTX's
// cookieCheck) maps into the gate's virtual directory, so the gate follows it; one that
// leaves the directory or the host stays as it is, and the gate does not follow it.
func TestVirtualLocation(t *testing.T) {
	virtual, _ := url.Parse("http://" + liveOriginHost + "/us-west-2/123456789012/abcdEFGH1234/" + liveMultivariant)
	real, _ := url.Parse("http://10.0.0.5:8888/app/ch/index.m3u8")
	child, _ := url.Parse("http://" + liveOriginHost + "/us-west-2/123456789012/abcdEFGH1234/video.m3u8?session=x")
	realChild, _ := url.Parse("http://10.0.0.5:8888/app/ch/video.m3u8?session=x")
	vdir := "http://" + liveOriginHost + "/us-west-2/123456789012/abcdEFGH1234/"
	for _, c := range []struct {
		virtual, real *url.URL
		loc, want     string
	}{
		{virtual, real, "/app/ch/index.m3u8?cookieCheck=1", vdir + liveMultivariant + "?cookieCheck=1"},
		{virtual, real, "index.m3u8?cookieCheck=1", vdir + liveMultivariant + "?cookieCheck=1"},
		{virtual, real, "other.m3u8", vdir + "other.m3u8"},
		{child, realChild, "video.m3u8?session=y", vdir + "video.m3u8?session=y"},
		{virtual, real, "/elsewhere/index.m3u8", "http://10.0.0.5:8888/elsewhere/index.m3u8"},
		{virtual, real, "http://evil.example/app/ch/index.m3u8", "http://evil.example/app/ch/index.m3u8"},
		{virtual, real, "https://10.0.0.5:8888/app/ch/index.m3u8", "https://10.0.0.5:8888/app/ch/index.m3u8"},
	} {
		if got := virtualLocation(c.virtual, c.real, c.loc); got != c.want {
			t.Errorf("Location %q: got %q, want %q", c.loc, got, c.want)
		}
	}
}

// fakeLive is a store whose channel is live at origin, or offline when origin is "".
type fakeLive struct {
	origin string
	reads  int
}

func (f *fakeLive) LiveStream(_ context.Context, channel playkey.ARN) (*playkey.Stream, error) {
	f.reads++
	if f.origin == "" {
		return nil, playkey.NotBroadcasting(channel)
	}
	return &playkey.Stream{Channel: channel, Origin: f.origin}, nil
}

// TestLiveOriginsForgetOnAnnouncement: while the store announces stream changes, a record
// (offline or live) is kept instead of read again, and the announcement of a change drops
// it, so the next lookup reads the store: a channel that goes live is served at once, not
// when the record would have expired.
func TestLiveOriginsForgetOnAnnouncement(t *testing.T) {
	ctx := context.Background()
	arn := playkey.ARN{Region: "us-west-2", Account: "123456789012", Type: playkey.TypeChannel, ID: "abcdEFGH1234"}
	store := &fakeLive{}
	lo := &liveOrigins{store: store}
	lo.forgetAll(true) // the store announces changes from now on
	if got := lo.lookup(ctx, arn); got != "" {
		t.Fatalf("offline channel: %q", got)
	}
	store.origin = "http://10.0.0.5:8890/ch/index.m3u8"
	if got := lo.lookup(ctx, arn); got != "" || store.reads != 1 {
		t.Fatalf("before the announcement: %q after %d store reads; want the offline record kept", got, store.reads)
	}
	lo.forget(arn) // the stream's start is announced
	if got := lo.lookup(ctx, arn); got != store.origin || store.reads != 2 {
		t.Fatalf("after the announcement: %q after %d store reads; want the store read again", got, store.reads)
	}
	store.origin = ""
	if got := lo.lookup(ctx, arn); got == "" {
		t.Fatal("the live record was not kept until announced")
	}
	lo.forget(arn) // the end is announced
	if got := lo.lookup(ctx, arn); got != "" {
		t.Fatalf("after the end's announcement: %q", got)
	}
}
