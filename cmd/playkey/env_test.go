package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestFlagsFromEnvironment: every flag can come from PLAYKEY_<NAME>, and the command line
// beats the environment.
func TestFlagsFromEnvironment(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir}
	fromEnv := filepath.Join(dir, "env.pem")
	fromFlag := filepath.Join(dir, "flag.pem")
	pub := filepath.Join(dir, "env.pub")

	mustRun(t, append(env, "PLAYKEY_O="+fromEnv, "PLAYKEY_PUBLIC_OUT="+pub), playkeyBin, "keygen")
	for _, p := range []string{fromEnv, pub} {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("keygen with PLAYKEY_O and PLAYKEY_PUBLIC_OUT: %v", err)
		}
	}
	mustRun(t, append(env, "PLAYKEY_O="+filepath.Join(dir, "unused.pem")), playkeyBin, "keygen", "-o", fromFlag)
	if _, err := os.Stat(fromFlag); err != nil {
		t.Fatalf("-o on the command line was not used: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "unused.pem")); err == nil {
		t.Fatal("PLAYKEY_O beat -o on the command line")
	}
	// An empty variable sets the flag to empty, as --flag= would.
	if _, errOut, code := runCmd(t, append(env, "PLAYKEY_O=", "PLAYKEY_PUBLIC_OUT="+filepath.Join(dir, "p2.pem")), playkeyBin, "keygen"); code != 2 || !strings.Contains(errOut, "needs -o") {
		t.Fatalf("keygen with PLAYKEY_O empty: exit %d %s", code, errOut)
	}
	// A bad value names the variable, before anything is done.
	_, errOut, code := runCmd(t, append(env, "PLAYKEY_DELETE_OLD_AFTER=soon"), playkeyBin, "keys", "rotate", "arn:aws:ivs:us-west-2:000000000000:playback-key/abc", "-o", filepath.Join(dir, "r.pem"))
	if code != 2 || !strings.Contains(errOut, "PLAYKEY_DELETE_OLD_AFTER") || !strings.Contains(errOut, "--delete-old-after") {
		t.Fatalf("a bad duration in the environment: exit %d %s", code, errOut)
	}
	// --help states the rule.
	_, errOut, _ = runCmd(t, env, playkeyBin, "serve", "-h")
	if !strings.Contains(errOut, "PLAYKEY_LOG_LEVEL") {
		t.Fatalf("serve -h does not give the environment rule:\n%s", errOut)
	}
}
