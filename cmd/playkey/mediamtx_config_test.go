package main

import (
	"os"
	"strings"
	"testing"
)

// TestMediaMTXConfigInREADME: the README's MediaMTX settings are those of
// docs/mediamtx/mediamtx.yml (after its header comment), the file TestMediaMTX runs.
func TestMediaMTXConfigInREADME(t *testing.T) {
	conf, err := os.ReadFile("../../docs/mediamtx/mediamtx.yml")
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, settings, ok := strings.Cut(string(conf), "\n\n")
	if !ok {
		t.Fatal("docs/mediamtx/mediamtx.yml has no header comment followed by a blank line")
	}
	_, section, ok := strings.Cut(string(readme), "### Live channels on MediaMTX")
	if !ok {
		t.Fatal("the README has no MediaMTX section")
	}
	_, block, ok := strings.Cut(section, "```yaml\n")
	block, _, ok2 := strings.Cut(block, "```")
	if !ok || !ok2 {
		t.Fatal("the README's MediaMTX section has no yaml block")
	}
	if block != settings {
		t.Errorf("the README's MediaMTX settings differ from docs/mediamtx/mediamtx.yml's:\nREADME:\n%s\nfile:\n%s", block, settings)
	}
}
