// Package testenv is what playkey's tests share: the outside programs they check against
// (found, or the test skipped with the command that installs them, or failed under CI), the
// playkey binary built as the tests are (with -race when they run with it), and the running
// of child processes whose output the test reads.
package testenv

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// install says how to get each outside program the tests use.
var install = map[string]string{
	"openssl":         "apt-get install openssl",
	"aws":             "apt-get install awscli",
	"python3":         "apt-get install python3",
	"node":            "apt-get install nodejs npm && bash .ci/setup",
	"moto_server":     "pip install 'moto[server]'",
	"chromium":        "apt-get install chromium",
	"ffmpeg":          "apt-get install ffmpeg",
	"nginx":           "apt-get install nginx",
	"ssh-keygen":      "apt-get install openssh-client",
	"initdb":          "apt-get install postgresql",
	"systemd-analyze": "apt-get install systemd",
}

// Install returns the command that installs the named program, as the skip messages and the
// test script's summary print it.
func Install(name string) string {
	if c, ok := install[name]; ok {
		return c
	}
	return "bash .ci/setup"
}

// Need returns the path of the named program on $PATH, or of the first of the alternatives
// (other names or paths) found. Without any, the test is skipped, or failed when $CI is set
// (see Missing).
func Need(t testing.TB, name string, alternatives ...string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	for _, alt := range alternatives {
		if err == nil {
			break
		}
		if q, altErr := exec.LookPath(alt); altErr == nil {
			p, err = q, nil
		}
	}
	if err != nil {
		Missing(t, name, Install(name), err)
	}
	return p
}

// Optional is Need for a check the test can do without: it returns the program's path and
// true, or, when it is missing, fails the test under CI and otherwise logs and records the
// check left out, and returns false.
func Optional(t testing.TB, name string) (string, bool) {
	t.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p, true
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("%s is required under CI (install: %s): %v", name, Install(name), err)
	}
	if path := os.Getenv(SkipsEnv); path != "" {
		record(path, name, Install(name), t.Name()+" (in part)")
	}
	t.Logf("%s is not available (%v): leaving out its checks; install: %s", name, err, Install(name))
	return "", false
}

// NeedPython returns the path of python3 after checking that it imports each module, or
// skips t (fails it under CI).
func NeedPython(t testing.TB, modules ...string) string {
	t.Helper()
	python := Need(t, "python3")
	for _, m := range modules {
		if out, err := exec.Command(python, "-c", "import "+m).CombinedOutput(); err != nil {
			Missing(t, "the Python module "+m, pipInstall(m), fmt.Errorf("%v: %s", err, bytes.TrimSpace(out)))
		}
	}
	return python
}

func pipInstall(module string) string {
	switch module {
	case "botocore":
		return "apt-get install python3-botocore"
	}
	return "pip install " + module
}

// SkipsEnv names the file, set by the test script (.ci/test), to which every skip for a
// missing tool appends a line, so that the script can list them after go test, which shows
// nothing of the packages that pass.
const SkipsEnv = "PLAYKEY_TEST_SKIPS"

var skipsMu sync.Mutex

// Missing ends the test because what it needs is unavailable (err says why): it fails when
// $CI is set, since CI must run every check, and otherwise skips, saying how to get it with
// the install command, and records the skip for the test script's summary.
func Missing(t testing.TB, what, installCmd string, err error) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatalf("%s is required under CI (install: %s): %v", what, installCmd, err)
	}
	// Read only here, so that go test caches the results of packages that skip nothing.
	if path := os.Getenv(SkipsEnv); path != "" {
		record(path, what, installCmd, t.Name())
	}
	t.Skipf("%s is not available (%v); install: %s (under CI=true this fails)", what, err, installCmd)
}

// record appends "what<TAB>install<TAB>package.Test" to the skips file. Lines are short and
// written with one O_APPEND write, so test binaries running at once do not mix them.
func record(path, what, installCmd, test string) {
	skipsMu.Lock()
	defer skipsMu.Unlock()
	pkg := "."
	if wd, err := os.Getwd(); err == nil {
		pkg = packageDir(wd)
	}
	line := fmt.Sprintf("%s\t%s\t%s.%s\n", oneLine(what), oneLine(installCmd), pkg, strings.SplitN(test, "/", 2)[0])
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return
	}
	f.WriteString(line)
	f.Close()
}

// packageDir is dir relative to the module root (the nearest parent holding go.mod).
func packageDir(dir string) string {
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			rel, err := filepath.Rel(d, dir)
			if err != nil {
				return dir
			}
			return filepath.ToSlash(rel)
		}
		if filepath.Dir(d) == d {
			return dir
		}
	}
}

func oneLine(s string) string {
	return strings.NewReplacer("\t", " ", "\n", " ").Replace(s)
}
