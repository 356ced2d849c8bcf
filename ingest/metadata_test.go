package ingest

import (
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestWithDateRanges(t *testing.T) {
	start := time.Date(2026, 12, 6, 19, 0, 0, 0, time.UTC)
	playlist := "#EXTM3U\n#EXT-X-VERSION:9\n#EXT-X-TARGETDURATION:2\n#EXT-X-MAP:URI=\"init.mp4\"\n" +
		"#EXT-X-PROGRAM-DATE-TIME:2026-12-06T19:00:00Z\n#EXTINF:2.00000,\nseg1.mp4\n"
	payload := "{\"a\": \"100%\",\r\n\"b\": 1}"
	cues := []metadataCue{
		{id: "old", at: start.Add(-time.Second), payload: "before the first segment"},
		{id: "m1", at: start.Add(1500 * time.Millisecond), payload: payload},
	}
	got := string(withDateRanges([]byte(playlist), cues))
	want := "#EXTM3U\n#EXT-X-VERSION:9\n#EXT-X-TARGETDURATION:2\n" +
		`#EXT-X-DATERANGE:ID="m1",CLASS="com.playkey.metadata",START-DATE="2026-12-06T19:00:01.500Z",X-PAYLOAD="{%22a%22: %22100%25%22,%0D%0A%22b%22: 1}"` + "\n" +
		"#EXT-X-MAP:URI=\"init.mp4\"\n#EXT-X-PROGRAM-DATE-TIME:2026-12-06T19:00:00Z\n#EXTINF:2.00000,\nseg1.mp4\n"
	if got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
	// decodeURIComponent's inverse, as a player undoes it.
	quoted := strings.Split(strings.Split(got, `X-PAYLOAD="`)[1], `"`)[0]
	if back, err := url.PathUnescape(quoted); err != nil || back != payload {
		t.Errorf("unescaped payload %q, %v; want %q", back, err, payload)
	}
	// A playlist without segments or times is left as it is.
	for _, p := range []string{"#EXTM3U\n#EXT-X-TARGETDURATION:2\n", "#EXTM3U\n#EXTINF:2,\nseg1.ts\n"} {
		if got := string(withDateRanges([]byte(p), cues)); got != p {
			t.Errorf("withDateRanges(%q) = %q, want it unchanged", p, got)
		}
	}
}
