package gate

import (
	"strings"
	"testing"
)

func TestMaximumResolutionRemovesRenditionGroups(t *testing.T) {
	src := `#EXTM3U
#EXT-X-MEDIA:TYPE=VIDEO,GROUP-ID="v1080",NAME="main",DEFAULT=YES,URI="1080p/main.m3u8"
#EXT-X-MEDIA:TYPE=VIDEO,GROUP-ID="v1080",NAME="angle",URI="1080p/angle.m3u8"
#EXT-X-MEDIA:TYPE=VIDEO,GROUP-ID="v360",NAME="main",DEFAULT=YES,URI="360p/main.m3u8"
#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="hq",NAME="surround",URI="audio/hq.m3u8"
#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="lq",NAME="stereo",URI="audio/lq.m3u8"
#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="both",NAME="commentary",URI="audio/commentary.m3u8"
#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="subs",NAME="en",URI="subs/en.m3u8"
#EXT-X-STREAM-INF:BANDWIDTH=6000000,RESOLUTION=1920x1080,VIDEO="v1080",AUDIO="hq",SUBTITLES="subs"
1080p/index.m3u8
#EXT-X-STREAM-INF:BANDWIDTH=5000000,RESOLUTION=1920x1080,VIDEO="v1080",AUDIO="both"
1080p/b.m3u8
#EXT-X-STREAM-INF:BANDWIDTH=800000,RESOLUTION=640x360,VIDEO="v360",AUDIO="lq",SUBTITLES="subs"
360p/index.m3u8
#EXT-X-STREAM-INF:BANDWIDTH=700000,RESOLUTION=640x360,VIDEO="v360",AUDIO="both"
360p/b.m3u8
#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=600000,RESOLUTION=1920x1080,VIDEO="v1080",URI="1080p/iframes.m3u8"
`
	var signed []string
	out, _, err := rewritePlaylist([]byte(src), 480, func(u string) (string, error) {
		signed = append(signed, u)
		return "/s/" + u, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range signed {
		if strings.HasPrefix(u, "1080p/") || u == "audio/hq.m3u8" {
			t.Errorf("signed %s, which only streams above SD use", u)
		}
	}
	for _, want := range []string{"360p/main.m3u8", "audio/lq.m3u8", "audio/commentary.m3u8", "subs/en.m3u8", "360p/index.m3u8", "360p/b.m3u8"} {
		if !strings.Contains(string(out), "/s/"+want) {
			t.Errorf("%s is missing from the SD playlist:\n%s", want, out)
		}
	}
}
