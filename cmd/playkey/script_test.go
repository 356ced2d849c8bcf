package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

// TestScripts runs the testscript files in testdata/script with the playkey binary that
// TestMain built on $PATH, so scripts say `exec playkey ...`. TZ is UTC so that times print
// the same everywhere.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir: filepath.Join("testdata", "script"),
		Setup: func(env *testscript.Env) error {
			env.Setenv("PATH", filepath.Dir(playkeyBin)+string(os.PathListSeparator)+env.Getenv("PATH"))
			env.Setenv("TZ", "UTC")
			return nil
		},
	})
}
