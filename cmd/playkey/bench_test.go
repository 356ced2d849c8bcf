package main

import (
	"bytes"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/playkey/playkey/internal/testenv"
)

// TestBenchGateAgainstNginx runs bench gate against a real nginx, with wrk, ffmpeg and
// openssl, for a second per measurement: it prints the four rows with positive figures,
// new viewers each verified once, and the memory the sessions took.
func TestBenchGateAgainstNginx(t *testing.T) {
	testenv.Need(t, "nginx", "/usr/sbin/nginx")
	testenv.Need(t, "wrk")
	testenv.Need(t, "ffmpeg")
	testenv.Need(t, "openssl")
	var out, errb bytes.Buffer
	code := run(t.Context(), []string{"bench", "gate", "--against", "nginx", "--duration", "1s", "--connections", "8", "--rounds", "1", "--sessions", "1000", "--tokens", "400"}, &stdio{out: &out, err: &errb})
	if code != 0 {
		t.Fatalf("bench gate: exit %d\n%s%s", code, out.String(), errb.String())
	}
	t.Log(out.String())
	row := regexp.MustCompile(`(?m)^(.+?)\s+(\d+)\s+(\d+)\s+(\d+\.\d\d)x\s+>=(\d\.\d)x\s+(.+)$`)
	rows := row.FindAllStringSubmatch(out.String(), -1)
	want := []struct{ path, goal, against string }{
		{"segment (", "0.9", "nginx proxy_pass"},
		{"media playlist of an admitted session", "0.7", "nginx proxy_pass"},
		{"/_playkey/auth decision for auth_request", "0.6", "nginx return 200"},
		{"new viewer (fresh token, multivariant)", "1.5", "openssl speed -multi"},
	}
	if len(rows) != len(want) {
		t.Fatalf("%d rows, want %d:\n%s", len(rows), len(want), out.String())
	}
	for i, w := range want {
		r := rows[i]
		if !strings.HasPrefix(r[1], w.path) || r[5] != w.goal || !strings.HasPrefix(r[6], w.against) {
			t.Errorf("row %d: %q, want %q, goal %s, against %q", i, r[0], w.path, w.goal, w.against)
		}
		gate, _ := strconv.Atoi(r[2])
		ref, _ := strconv.Atoi(r[3])
		ratio, _ := strconv.ParseFloat(r[4], 64)
		if gate <= 0 || ref <= 0 || ratio <= 0 {
			t.Errorf("row %q: gate %d/s, reference %d/s, ratio %v: want all positive", r[1], gate, ref, ratio)
		}
	}
	// Every new viewer is a signature verified: none is a token the gate saw before, unless
	// the 400 ran out, which the report then says.
	m := regexp.MustCompile(`new viewers: (\d+) multivariant requests, (\d+) signatures verified, (\d+) tokens from the cache`).FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("no new-viewer counts:\n%s", out.String())
	}
	reqs, _ := strconv.Atoi(m[1])
	verified, _ := strconv.Atoi(m[2])
	cached, _ := strconv.Atoi(m[3])
	if reqs == 0 || reqs != verified+cached || (cached > 0) != strings.Contains(out.String(), "ran out") || verified > 400 {
		t.Errorf("new viewers: %d requests, %d verified, %d cached:\n%s", reqs, verified, cached, out.String())
	}
	mem := regexp.MustCompile(`memory for 1000 sessions admitted[^\n]*\n\s+Go heap in use after a collection \+(\d+\.\d) MiB \((\d+) bytes per session\)`).FindStringSubmatch(out.String())
	if mem == nil || mem[2] == "0" {
		t.Errorf("no memory growth for the sessions:\n%s", out.String())
	}
	for _, secret := range []string{"token=", "/s/"} {
		if strings.Contains(out.String()+errb.String(), secret) {
			t.Errorf("the output holds %q, a token or session credential:\n%s%s", secret, out.String(), errb.String())
		}
	}
}
