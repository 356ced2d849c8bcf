package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

var playkey struct {
	once      sync.Once
	dir, path string
	err       error
}

// Playkey returns the playkey binary, built from this module once per test process, with
// -race when the tests run with it, so that what the tests run is race-checked too. Packages
// that call it remove it at the end with Main.
func Playkey(t testing.TB) string {
	t.Helper()
	playkey.once.Do(func() {
		playkey.dir, playkey.err = os.MkdirTemp("", "playkey-bin")
		if playkey.err != nil {
			return
		}
		playkey.path = filepath.Join(playkey.dir, "playkey")
		args := []string{"build", "-o", playkey.path}
		if Race {
			args = append(args, "-race")
		}
		out, err := exec.Command("go", append(args, "github.com/playkey/playkey/cmd/playkey")...).CombinedOutput()
		if err != nil {
			playkey.err = fmt.Errorf("go build ./cmd/playkey: %v\n%s", err, out)
		}
	})
	if playkey.err != nil {
		t.Fatal(playkey.err)
	}
	return playkey.path
}

// Main runs the tests and removes what Playkey built. Call it from TestMain.
func Main(m *testing.M) {
	code := m.Run()
	if playkey.dir != "" {
		os.RemoveAll(playkey.dir)
	}
	os.Exit(code)
}
