package gate

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

func mark(u string) (string, error) { return "/g/" + u, nil }

func TestRewritePlaylist(t *testing.T) {
	t.Parallel()
	src, err := os.ReadFile("testdata/playlists/llhls.m3u8")
	if err != nil {
		t.Fatal(err)
	}
	out, _, err := rewritePlaylist(src, 0, mark)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`#EXT-X-KEY:METHOD=AES-128,URI="/g/keys/k1.bin",IV=0x1234`,
		`#EXT-X-MAP:URI="/g/init.mp4",BYTERANGE="720@0"`,
		"\n/g/fileSequence266.mp4\n",
		`#EXT-X-PART:DURATION=0.33334,URI="/g/filePart267.0.mp4",INDEPENDENT=YES`,
		`#EXT-X-PRELOAD-HINT:TYPE=PART,URI="/g/filePart267.2.mp4"`,
		`#EXT-X-RENDITION-REPORT:URI="/g/../1080p/index.m3u8",LAST-MSN=267,LAST-PART=1`,
		"#EXT-X-PROGRAM-DATE-TIME:2019-02-14T02:13:36.106Z\n",
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("missing %q in:\n%s", want, out)
		}
	}
	// With a limit, rendition reports go: they could name a removed rendition.
	out, _, _ = rewritePlaylist(src, 480, mark)
	if bytes.Contains(out, []byte("RENDITION-REPORT")) {
		t.Errorf("rendition reports kept under a limit:\n%s", out)
	}

	src, _ = os.ReadFile("testdata/playlists/session.m3u8")
	out, info, err := rewritePlaylist(src, 720, mark)
	if err != nil {
		t.Fatal(err)
	}
	want := `#EXTM3U
#EXT-X-SESSION-DATA:DATA-ID="com.example.title",URI="/g/meta/title.json"
#EXT-X-SESSION-KEY:METHOD=SAMPLE-AES,URI="/g/skd://key-id",KEYFORMAT="com.apple.streamingkeydelivery"
#EXT-X-STREAM-INF:BANDWIDTH=1280000,RESOLUTION=720x1280
/g/portrait/720.m3u8?v=2
#EXT-X-STREAM-INF:BANDWIDTH=64000,CODECS="mp4a.40.5"
/g/audio-only.m3u8
`
	if string(out) != want {
		t.Errorf("got:\n%s\nwant:\n%s", out, want)
	}
	if info.Variants != 2 || info.Removed != 1 {
		t.Errorf("info %+v", info)
	}

	src, _ = os.ReadFile("testdata/playlists/crlf.m3u8")
	out, _, err = rewritePlaylist(src, 0, mark)
	if err != nil || string(out) != "#EXTM3U\n#EXT-X-TARGETDURATION:6\n#EXTINF:6,\n/g/http://origin.example/ch/a b.ts\n" {
		t.Errorf("CRLF: %q %v", out, err)
	}
}

func TestRewritePlaylistErrors(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name, src string
		want      error
	}{
		{"not a playlist", "<html>", errNotPlaylist},
		{"EXTM3U prefix only", "#EXTM3UX\n", errNotPlaylist},
		{"empty", "", errNotPlaylist},
		{"all above the limit", "#EXTM3U\n#EXT-X-STREAM-INF:RESOLUTION=1920x1080\na.m3u8\n", errNoRenditions},
	} {
		t.Run(c.name, func(t *testing.T) {
			if _, _, err := rewritePlaylist([]byte(c.src), 480, mark); !errors.Is(err, c.want) {
				t.Errorf("error %v, want %v", err, c.want)
			}
		})
	}
	for _, bad := range []string{
		`#EXT-X-MAP:URI="unterminated`,
		`#EXT-X-MAP:URI=unquoted.mp4`,
		`#EXT-X-KEY:METHOD=AES-128,,URI="k"`,
		`#EXT-X-MAP:uri="lower.mp4"`,
	} {
		if _, _, err := rewritePlaylist([]byte("#EXTM3U\n"+bad+"\n"), 0, mark); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
	failing := func(string) (string, error) { return "", errOutside }
	if _, _, err := rewritePlaylist([]byte("#EXTM3U\nseg.ts\n"), 0, failing); !errors.Is(err, errOutside) {
		t.Errorf("a URI the callback refuses: %v", err)
	}
}

var (
	streamInfHeight = regexp.MustCompile(`^#EXT-X(?:-I-FRAME)?-STREAM-INF:(?:.*,)?RESOLUTION=(\d+)x(\d+)`)
	onlyURI         = regexp.MustCompile(`[:,]URI="([^"]*)"`)
)

// FuzzRewritePlaylist checks the rewriter on any input: it never panics; rewriting with the
// identity is a normalisation that a second pass leaves as it is; a marked rewrite marks
// every URI line; no variant taller than the limit survives. The checks read the output
// with regular expressions, not with the parser under test.
func FuzzRewritePlaylist(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/playlists/*.m3u8")
	more, _ := filepath.Glob("testdata/hls/*/*.m3u8")
	for _, p := range append(append(seeds, more...), "testdata/hls/index.m3u8") {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, uint16(480))
		f.Add(b, uint16(0))
	}
	f.Fuzz(func(t *testing.T, src []byte, limit uint16) {
		maxHeight := int(limit)
		identity := func(u string) (string, error) { return u, nil }
		once, _, err := rewritePlaylist(src, maxHeight, identity)
		if err != nil {
			return
		}
		twice, _, err := rewritePlaylist(once, maxHeight, identity)
		if err != nil {
			t.Fatalf("the output does not parse again: %v\n%q", err, once)
		}
		if !bytes.Equal(once, twice) {
			t.Fatalf("not a fixed point:\n%q\n%q", once, twice)
		}
		marked, _, err := rewritePlaylist(src, maxHeight, mark)
		if err != nil {
			t.Fatalf("identity rewrite passed, marked one failed: %v", err)
		}
		for line := range strings.SplitSeq(string(marked), "\n") {
			trimmed := strings.TrimSpace(line)
			if trimmed != "" && !strings.HasPrefix(line, "#") && !strings.HasPrefix(line, "/g/") {
				t.Fatalf("URI line %q not rewritten", line)
			}
			if m := streamInfHeight.FindStringSubmatch(line); m != nil && maxHeight > 0 {
				w, _ := strconv.Atoi(m[1])
				h, _ := strconv.Atoi(m[2])
				if min(w, h) > maxHeight {
					t.Fatalf("%q kept under a limit of %d", line, maxHeight)
				}
			}
			// A tag whose only quoted string is its URI attribute has that URI marked.
			name, _, _ := strings.Cut(line, ":")
			if m := onlyURI.FindStringSubmatch(line); uriTags[name] && m != nil && strings.Count(line, `"`) == 2 && !strings.HasPrefix(m[1], "/g/") {
				t.Fatalf("URI attribute in %q not rewritten", line)
			}
		}
	})
}

func TestSessionRoundTrip(t *testing.T) {
	t.Parallel()
	for _, s := range []session{
		{},
		{ID: [8]byte{1, 2, 3}, Expires: 1 << 40, Region: "us-west-2", Account: "123456789012", ChannelID: "abc", ViewerID: "ü-viewer,1", Version: -3, MaxHeight: 480, Origins: []string{"https://a.example", "https://*.b.example"}, Strict: true},
		{Origins: []string{""}},
		{Origins: []string{"https://a.example"}, Strict: true, Policy: true},
	} {
		got, err := decodeSession(s.encode())
		if err != nil {
			t.Fatalf("%+v: %v", s, err)
		}
		if got.encode() != s.encode() || (got.Origins == nil) != (s.Origins == nil) || got.Policy != s.Policy {
			t.Errorf("round trip: %+v, want %+v", got, s)
		}
	}
}

func TestSessionMAC(t *testing.T) {
	t.Parallel()
	sg := signer{key: []byte("k")}
	s := session{Region: "r", Account: "a", ChannelID: "c", Expires: 99}
	cred := sg.credential(s.encode(), "360p/index.m3u8")
	if _, err := sg.check(cred, "360p/index.m3u8"); err != nil {
		t.Fatal(err)
	}
	if _, err := sg.check(cred, "1080p/index.m3u8"); err == nil {
		t.Error("a credential fits another path")
	}
	if _, err := (signer{key: []byte("other")}).check(cred, "360p/index.m3u8"); err == nil {
		t.Error("a credential fits another secret")
	}
	s.Expires = 1 << 50
	forged := s.encode() + cred[strings.IndexByte(cred, '.'):]
	if _, err := sg.check(forged, "360p/index.m3u8"); err == nil {
		t.Error("a session with a changed field kept its MAC")
	}
}

// FuzzDecodeSession: any input decodes or fails cleanly, and what decodes re-encodes to the
// same bytes.
func FuzzDecodeSession(f *testing.F) {
	f.Add((&session{Region: "us-west-2", Account: "123456789012", ChannelID: "x", Origins: []string{"https://a"}}).encode())
	f.Add("AQA")
	f.Fuzz(func(t *testing.T, enc string) {
		s, err := decodeSession(enc)
		if err != nil {
			return
		}
		if got := s.encode(); got != enc {
			t.Fatalf("re-encoded %q as %q", enc, got)
		}
	})
}

func TestRelative(t *testing.T) {
	t.Parallel()
	tmpl, err := parseOriginTemplate("http://origin.example:8080/live/{channel}/index.m3u8")
	if err != nil {
		t.Fatal(err)
	}
	co, _ := tmpl.channel("us-west-2", "123456789012", "abc")
	for ref, want := range map[string]string{
		"720p/index.m3u8":  "720p/index.m3u8",
		"./a/../b.ts":      "b.ts",
		"/live/abc/x/y.ts": "x/y.ts",
		"seg.ts?q=1&r=%2F": "seg.ts?q=1&r=%2F",
		"http://ORIGIN.example:8080/live/abc/z.ts": "z.ts",
		"a%20b.ts": "a%20b.ts",
	} {
		got, err := co.relative(co.playlist, ref)
		if err != nil || got != want {
			t.Errorf("relative(%q) = %q, %v; want %q", ref, got, err, want)
		}
	}
	for _, ref := range []string{
		"../other/x.ts", "/live/abcd/x.ts", "https://origin.example:8080/live/abc/x.ts",
		"http://origin.example/live/abc/x.ts", "http://user@origin.example:8080/live/abc/x.ts",
		"%2e%2e/x.ts", "a%2Fb.ts", "a%5cb.ts", "dir/", "//evil.example/live/abc/x.ts",
	} {
		if got, err := co.relative(co.playlist, ref); err == nil {
			t.Errorf("relative(%q) = %q, want an error", ref, got)
		}
	}
	if _, err := co.relative(co.playlist, "data:text/plain,x"); !errors.Is(err, errForeignURI) {
		t.Errorf("data URI: %v", err)
	}
	for _, bad := range []string{"", "http://x/index.m3u8", "ftp://x/{channel}.m3u8", "http:///{channel}.m3u8", "http://u@x/{channel}.m3u8", "http://x/{channel}/", "http://{channel}/a.m3u8"} {
		if _, err := parseOriginTemplate(bad); err == nil {
			t.Errorf("template %q accepted", bad)
		}
	}
}

func TestSplitHLSQuery(t *testing.T) {
	t.Parallel()
	for raw, want := range map[string]string{
		"":                           "",
		"_HLS_msn=3":                 "",
		"v=2&_HLS_msn=3&_HLS_part=1": "v=2",
		"_HLS_skip=YES&a=1&b=2":      "a=1&b=2",
	} {
		if got := splitHLSQuery(raw); got != want {
			t.Errorf("splitHLSQuery(%q) = %q, want %q", raw, got, want)
		}
	}
}
