package httppath

import "testing"

func TestIsClean(t *testing.T) {
	clean := []string{"/", "/ListChannels", "/tags/arn%3Aaws%3Aivs%3Aus-west-2%3A111111111111%3Achannel%2Fabc", "/console/", "/api/video/v1/s/x.y/360p/seg1.ts", "/a/b/"}
	for _, p := range clean {
		if !IsClean(p) {
			t.Errorf("IsClean(%q) = false, want true", p)
		}
	}
	unclean := []string{"", "x", "//ListChannels", "/x/../ImportPlaybackKeyPair", "/./a", "/a/.", "/a//b", "/a/b//", "/console/../x", "/a/.."}
	for _, p := range unclean {
		if IsClean(p) {
			t.Errorf("IsClean(%q) = true, want false", p)
		}
	}
}
