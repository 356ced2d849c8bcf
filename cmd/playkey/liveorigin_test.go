package main

import (
	"net/url"
	"testing"
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
