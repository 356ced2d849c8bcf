package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/playkey/playkey/internal/testenv"
)

// TestSystemdUnit checks docs/systemd: systemd-analyze verify accepts the unit, it keeps the
// hardening the docs promise, and every PLAYKEY_ variable it and its environment file set
// names a flag of playkey serve.
func TestSystemdUnit(t *testing.T) {
	t.Parallel()
	analyze := testenv.Need(t, "systemd-analyze")
	unit, err := os.ReadFile("../../docs/systemd/playkey.service")
	if err != nil {
		t.Fatal(err)
	}
	envFile, err := os.ReadFile("../../docs/systemd/playkey.env")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"DynamicUser=yes", "StateDirectory=playkey", "ProtectSystem=strict", "NoNewPrivileges=yes",
		"EnvironmentFile=/etc/playkey/playkey.env", "ExecStart=/usr/local/bin/playkey serve"} {
		if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(want) + `$`).Match(unit) {
			t.Errorf("the unit lacks %s", want)
		}
	}

	// verify wants ExecStart's program to exist: point it at this playkey, nothing else changed.
	dir := t.TempDir()
	copied := strings.Replace(string(unit), "ExecStart=/usr/local/bin/playkey ", "ExecStart="+playkeyBin+" ", 1)
	path := filepath.Join(dir, "playkey.service")
	if err := os.WriteFile(path, []byte(copied), 0o644); err != nil {
		t.Fatal(err)
	}
	// Warnings (unknown keys, bad values) leave the exit status 0: any output fails too.
	out, err := exec.Command(analyze, "verify", path).CombinedOutput()
	if err != nil || len(strings.TrimSpace(string(out))) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}

	_, help, _ := runCmd(t, []string{"PATH=" + os.Getenv("PATH")}, playkeyBin, "serve", "-h")
	vars := regexp.MustCompile(`(?m)^(?:Environment=)?#?(PLAYKEY_[A-Z_]+)=`).FindAllSubmatch(append(unit, envFile...), -1)
	if len(vars) < 5 {
		t.Fatalf("found only %d PLAYKEY_ settings", len(vars))
	}
	for _, m := range vars {
		flag := strings.ToLower(strings.ReplaceAll(strings.TrimPrefix(string(m[1]), "PLAYKEY_"), "_", "-"))
		if !regexp.MustCompile(`(?m)^  -` + regexp.QuoteMeta(flag) + `\b`).MatchString(help) {
			t.Errorf("%s sets --%s, which playkey serve does not have", m[1], flag)
		}
	}
}
