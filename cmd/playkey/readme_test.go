package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/playkey/playkey/internal/testenv"
)

// readmeBlock is one ```sh block of the README, with the marking before it, if any: an HTML
// comment the reader does not see,
//
//	<!-- readme: background NAME, ready when URL answers -->
//	<!-- readme: skip: REASON -->
//
// A background block (a server, a live publish) keeps running while the blocks after it
// run; a later background block of the same NAME replaces it, as a reader stops a server to
// start it again. URL may use the variables the blocks before it set, and answers when it
// returns a 2xx status.
type readmeBlock struct {
	line       int // of the opening fence, 1-based
	text       string
	background string // NAME, for a background block
	ready      string // its URL, unexpanded
	skip       string // the reason, for a block the test does not run
}

var (
	readmeFence      = regexp.MustCompile("^```([a-z]*)\\s*$")
	readmeMark       = regexp.MustCompile(`^<!-- readme: (.*) -->$`)
	readmeBackground = regexp.MustCompile(`^background ([a-z]+), ready when (\S+) answers$`)
	readmeSkip       = regexp.MustCompile(`^skip: (.+)$`)
	readmeLoose      = regexp.MustCompile(`<!--\s*readme`)
)

// readmeBlocks returns the README's ```sh blocks in order. Other fences (text, json, ini, or
// none, for synopses and sample output) are not run.
func readmeBlocks(readme string) ([]readmeBlock, error) {
	var (
		blocks []readmeBlock
		mark   string // the marking on the last non-blank line, if any
		in     *readmeBlock
		lang   string
	)
	sc := bufio.NewScanner(strings.NewReader(readme))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if in != nil || lang != "" {
			if strings.TrimSpace(line) == "```" {
				if in != nil {
					blocks = append(blocks, *in)
				}
				in, lang = nil, ""
			} else if in != nil {
				in.text += line + "\n"
			}
			continue
		}
		if m := readmeFence.FindStringSubmatch(line); m != nil {
			lang = m[1] + "." // "." so that a bare fence is open too
			if m[1] == "sh" {
				in = &readmeBlock{line: n}
				if mark != "" {
					if err := in.mark(mark); err != nil {
						return nil, fmt.Errorf("README.md:%d: %w", n-1, err)
					}
				}
			} else if mark != "" {
				return nil, fmt.Errorf("README.md:%d: a readme marking before a ```%s block, which is not run", n-1, m[1])
			}
			mark = ""
			continue
		}
		if strings.TrimSpace(line) == "" {
			continue
		}
		mark = ""
		if m := readmeMark.FindStringSubmatch(strings.TrimSpace(line)); m != nil {
			mark = m[1]
		} else if readmeLoose.MatchString(line) {
			return nil, fmt.Errorf("README.md:%d: a malformed readme marking: %s", n, line)
		}
	}
	if in != nil || lang != "" {
		return nil, errors.New("README.md ends inside a code block")
	}
	return blocks, sc.Err()
}

func (b *readmeBlock) mark(mark string) error {
	if m := readmeBackground.FindStringSubmatch(mark); m != nil {
		b.background, b.ready = m[1], m[2]
		return nil
	}
	if m := readmeSkip.FindStringSubmatch(mark); m != nil {
		b.skip = m[1]
		return nil
	}
	return fmt.Errorf("readme marking %q: want \"background NAME, ready when URL answers\" or \"skip: REASON\"", mark)
}

func TestReadmeBlocksParse(t *testing.T) {
	t.Parallel()
	blocks, err := readmeBlocks("intro\n<!-- readme: background server, ready when http://127.0.0.1:8080/healthz answers -->\n\n```sh\ngo run ./cmd/playkey serve\n```\n" +
		"```json\n{}\n```\n```\nplaykey serve --api-addr HOST:PORT\n```\n<!-- readme: skip: needs real AWS -->\n```sh\naws ivs list-channels\n```\n```sh\necho a\necho b\n```\n")
	if err != nil {
		t.Fatal(err)
	}
	want := []readmeBlock{
		{line: 4, text: "go run ./cmd/playkey serve\n", background: "server", ready: "http://127.0.0.1:8080/healthz"},
		{line: 14, text: "aws ivs list-channels\n", skip: "needs real AWS"},
		{line: 17, text: "echo a\necho b\n"},
	}
	if fmt.Sprint(blocks) != fmt.Sprint(want) {
		t.Errorf("got %+v\nwant %+v", blocks, want)
	}
	for _, bad := range []string{
		"<!-- readme: background server -->\n```sh\nx\n```\n",
		"<!-- readme: skip -->\n```sh\nx\n```\n",
		"<!-- readme: skip: why -->\n```json\n{}\n```\n",
		"<!--readme: skip: why-->\n```sh\nx\n```\n",
		"```sh\nx\n",
	} {
		if _, err := readmeBlocks(bad); err == nil {
			t.Errorf("readmeBlocks(%q) accepted it", bad)
		}
	}
}

// readmeRunner runs one block file in bash with set -euo pipefail, after the variables and
// working directory the blocks before it left (the state file), and saves them again for
// the next block: every exported variable, and every variable the blocks set.
const readmeRunner = `set -euo pipefail
__readme_state=$1 __readme_block=$2
__readme_names=" $(compgen -v | tr '\n' ' ') "
if [ -f "$__readme_state" ]; then . "$__readme_state"; fi
. "$__readme_block"
{
	export -p | grep -Ev '^declare -x (PWD|OLDPWD|SHLVL|_)=' || true
	for __readme_v in $(compgen -v); do
		case "$__readme_names" in *" $__readme_v "*) continue ;; esac
		case "$__readme_v" in __readme_* | BASH_*) continue ;; esac
		declare -p "$__readme_v"
	done
	printf 'cd -- %q\n' "$PWD"
} >"$__readme_state.new"
mv "$__readme_state.new" "$__readme_state"
`

// TestREADME runs the README's shell blocks as printed, in order, as a newcomer would from a
// fresh clone: one fresh bash each (set -euo pipefail) with the variables and directory the
// blocks before it left, a new HOME, the repository (a copy of this one) as the working
// directory, a PATH with the tools and no playkey, and the default ports. A block that
// fails, or a background block that never gets ready, fails the test.
func TestREADME(t *testing.T) {
	t.Parallel()
	goTool := testenv.Need(t, "go")
	for _, tool := range []string{"aws", "openssl", "ffmpeg", "python3", "curl"} {
		testenv.Need(t, tool)
	}
	// The README uses the default ports; another program on one of them is not the README's
	// fault, but the test cannot run it as printed then.
	for _, port := range []string{"8080", "8081", "1935", "8888"} {
		ln, err := net.Listen("tcp", "127.0.0.1:"+port)
		if err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("the README's port %s is taken: %v", port, err)
			}
			t.Skipf("the README's port %s is taken, so its commands cannot run as printed: %v", port, err)
		}
		ln.Close()
	}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks, err := readmeBlocks(string(readme))
	if err != nil {
		t.Fatal(err)
	}
	if len(blocks) < 5 || blocks[0].background == "" || !strings.Contains(blocks[0].text, "go run ./cmd/playkey serve") {
		t.Fatalf("the README's first shell block should start go run ./cmd/playkey serve in the background; blocks: %+v", blocks)
	}

	tmp := t.TempDir()
	repo := readmeClone(t)
	home := filepath.Join(tmp, "home")
	if err := os.Mkdir(home, 0o700); err != nil {
		t.Fatal(err)
	}
	env := readmeEnv(t, goTool, home)
	if p, err := lookPathIn("playkey", env); err == nil {
		t.Fatalf("%s is on the PATH the README's commands get; it would hide a README that does not install playkey", p)
	}
	runner := filepath.Join(tmp, "run.sh")
	state := filepath.Join(tmp, "state.sh")
	if err := os.WriteFile(runner, []byte(readmeRunner), 0o644); err != nil {
		t.Fatal(err)
	}
	// The state starts in the repository.
	if err := os.WriteFile(state, fmt.Appendf(nil, "cd -- %q\n", repo), 0o644); err != nil {
		t.Fatal(err)
	}
	bash := func(block string) *exec.Cmd {
		cmd := exec.Command("bash", runner, state, block)
		cmd.Dir = repo
		cmd.Env = env
		// Its own process group, so that the programs it starts end with it (go run leaves
		// an interrupt to the program it runs).
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		return cmd
	}

	background := map[string]*readmeProcess{}
	t.Cleanup(func() {
		for _, p := range background {
			p.stop(t)
		}
	})
	start := time.Now()
	for i, b := range blocks {
		where := fmt.Sprintf("README.md:%d", b.line)
		if b.skip != "" {
			t.Logf("%s: not run: %s", where, b.skip)
			continue
		}
		file := filepath.Join(tmp, fmt.Sprintf("block%02d.sh", i))
		if err := os.WriteFile(file, []byte(b.text), 0o644); err != nil {
			t.Fatal(err)
		}
		if b.background != "" {
			if old := background[b.background]; old != nil {
				old.stop(t)
			}
			// The URL as bash expands it with the blocks' variables.
			expand := filepath.Join(tmp, fmt.Sprintf("block%02d-ready.sh", i))
			if err := os.WriteFile(expand, []byte(`printf '%s' "`+b.ready+`"`), 0o644); err != nil {
				t.Fatal(err)
			}
			url, err := bash(expand).Output()
			if err != nil {
				t.Fatalf("%s: expanding %q: %v %s", where, b.ready, err, stderrOf(err))
			}
			p := startReadmeProcess(t, bash(file), where)
			background[b.background] = p
			p.waitReady(t, string(url))
			t.Logf("%s: %s running, ready after %v", where, b.background, time.Since(p.started).Round(time.Millisecond))
			if i == 0 {
				checkStartupSample(t, string(readme), b.line, p)
			}
			continue
		}
		began := time.Now()
		cmd := bash(file)
		var out testenv.SyncBuffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err = <-done:
		case <-time.After(readmeHangGuard):
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
			err = fmt.Errorf("still running after %v", readmeHangGuard)
		}
		if err != nil {
			for name, p := range background {
				t.Logf("background %s (%s) printed:\n%s", name, p.where, p.out.String())
			}
			t.Fatalf("%s: the block failed (%v):\n%s\nit printed:\n%s", where, err, b.text, out.String())
		}
		t.Logf("%s: ran in %v; it printed:\n%s", where, time.Since(began).Round(time.Millisecond), out.String())
	}
	t.Logf("the README's blocks ran in %v", time.Since(start).Round(time.Millisecond))
}

// checkStartupSample checks that the sample output printed after the quick start's block
// (the first ```text block after the line of its fence) is what serve printed, line by
// line, leaving out the lines the sample elides with "...".
func checkStartupSample(t *testing.T, readme string, after int, p *readmeProcess) {
	t.Helper()
	lines := strings.Split(readme, "\n")[after:]
	start := slices.Index(lines, "```text")
	if start < 0 {
		t.Fatalf("README.md: no ```text sample of serve's output after line %d", after)
	}
	end := slices.Index(lines[start+1:], "```")
	if end < 0 {
		t.Fatalf("README.md:%d: the sample of serve's output does not end", after+start+1)
	}
	var want []string
	for _, l := range lines[start+1 : start+1+end] {
		if strings.TrimSpace(l) != "" && !strings.Contains(l, "...") {
			want = append(want, l)
		}
	}
	if len(want) < 5 {
		t.Fatalf("README.md:%d: the sample of serve's output has only %d lines to check", after+start+1, len(want))
	}
	// The lines were printed before the server answered, but may still be on their way
	// through the pipes.
	deadline := time.Now().Add(10 * time.Second)
	for {
		printed := "\n" + p.out.String()
		var missing []string
		for _, l := range want {
			if !strings.Contains(printed, "\n"+l+"\n") {
				missing = append(missing, l)
			}
		}
		if len(missing) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("README.md:%d: the sample of serve's output has lines serve did not print:\n%s\nit printed:\n%s",
				after+start+1, strings.Join(missing, "\n"), p.out)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// readmeHangGuard bounds one block, and the wait for a background block to be ready. It
// only turns a hang into a failure: the first go run may compile all of playkey, which on a
// loaded two-core machine with a cold build cache takes minutes.
const readmeHangGuard = 5 * time.Minute

// readmeProcess is a background block running.
type readmeProcess struct {
	cmd     *exec.Cmd
	where   string
	out     *testenv.SyncBuffer
	started time.Time
	done    chan struct{}
	err     error
}

func startReadmeProcess(t *testing.T, cmd *exec.Cmd, where string) *readmeProcess {
	t.Helper()
	p := &readmeProcess{cmd: cmd, where: where, out: &testenv.SyncBuffer{}, started: time.Now(), done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.out, p.out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p
}

// waitReady waits until url answers with a 2xx status; the test fails if the block ends
// first.
func (p *readmeProcess) waitReady(t *testing.T, url string) {
	t.Helper()
	client := &http.Client{Timeout: 10 * time.Second}
	deadline := time.Now().Add(readmeHangGuard)
	last := "no answer"
	for {
		select {
		case <-p.done:
			t.Fatalf("%s: the background block ended (%v) before %s answered (last: %s); it printed:\n%s", p.where, p.err, url, last, p.out)
		default:
		}
		resp, err := client.Get(url)
		if err != nil {
			last = err.Error()
		} else {
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
			resp.Body.Close()
			if resp.StatusCode/100 == 2 {
				return
			}
			last = fmt.Sprintf("%s %s %s", resp.Status, resp.Header.Get("X-Playkey-Reason"), body)
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %s did not answer 2xx within %v (last: %s); the block printed:\n%s", p.where, url, readmeHangGuard, last, p.out)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// stop interrupts the block's process group, as Ctrl-C in its shell would, and kills it if
// it has not ended 15 s later. A block that ended by itself (a publish after StopStream)
// is not an error.
func (p *readmeProcess) stop(t *testing.T) {
	select {
	case <-p.done:
		return
	default:
	}
	syscall.Kill(-p.cmd.Process.Pid, syscall.SIGINT)
	select {
	case <-p.done:
	case <-time.After(15 * time.Second):
		syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
	}
	testenv.CheckNoRace(t, p.where, p.out.String())
}

// readmeEnv is a new user's environment: HOME, a PATH without any playkey, and Go's settings
// from `go env` so that the build and module caches are this machine's (a fresh HOME would
// otherwise build everything again) while GOPATH is the new HOME's.
func readmeEnv(t *testing.T, goTool, home string) []string {
	t.Helper()
	var path []string
	for _, dir := range filepath.SplitList(os.Getenv("PATH")) {
		if fi, err := os.Stat(filepath.Join(dir, "playkey")); err == nil && !fi.IsDir() {
			continue
		}
		path = append(path, dir)
	}
	env := []string{"HOME=" + home, "PATH=" + strings.Join(path, string(filepath.ListSeparator))}
	goVars := []string{"GOCACHE", "GOMODCACHE", "GOPROXY", "GOSUMDB", "GONOSUMDB", "GONOPROXY", "GOPRIVATE", "GOINSECURE", "GOFLAGS", "GOTOOLCHAIN"}
	out, err := exec.Command(goTool, append([]string{"env"}, goVars...)...).Output()
	if err != nil {
		t.Fatalf("go env: %v %s", err, stderrOf(err))
	}
	for i, v := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
		if i < len(goVars) && v != "" {
			env = append(env, goVars[i]+"="+v)
		}
	}
	// A pyenv installation (the AWS CLI may be one) finds itself through these.
	for _, name := range []string{"TMPDIR", "LANG", "PYENV_ROOT", "PYENV_VERSION"} {
		if v, ok := os.LookupEnv(name); ok {
			env = append(env, name+"="+v)
		}
	}
	return env
}

// lookPathIn finds name on the PATH of env.
func lookPathIn(name string, env []string) (string, error) {
	for _, kv := range env {
		if p, ok := strings.CutPrefix(kv, "PATH="); ok {
			for _, dir := range filepath.SplitList(p) {
				file := filepath.Join(dir, name)
				if fi, err := os.Stat(file); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
					return file, nil
				}
			}
		}
	}
	return "", exec.ErrNotFound
}

// readmeClone copies this repository to the same directory every run, as a fresh clone
// would have it, and returns that directory. Go's build cache keys compiled packages by
// their directory, so a new one each time would make the README's go run compile all of
// playkey again. A lock beside it keeps two test processes from sharing it at once.
func readmeClone(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(os.TempDir(), "playkey-readme-test")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	lock, err := os.OpenFile(filepath.Join(dir, "lock"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	repo := filepath.Join(dir, "playkey")
	t.Cleanup(func() {
		os.RemoveAll(repo)
		lock.Close() // and with it the lock
	})
	if err := os.RemoveAll(repo); err != nil {
		t.Fatal(err)
	}
	copyRepo(t, "../..", repo)
	return repo
}

// copyRepo copies the repository at src to dst as a clone would have it: without the Git
// directory, installed Node packages, a data directory or built binaries.
func copyRepo(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		switch {
		case d.Name() == ".git" || d.Name() == "node_modules" || rel == "playkey-data" || rel == "playkey" ||
			strings.HasSuffix(d.Name(), ".test"):
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		case d.IsDir():
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		case !d.Type().IsRegular():
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, fi.Mode().Perm())
	})
	if err != nil {
		t.Fatalf("copying the repository: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dst, "go.mod")); err != nil {
		t.Fatal(err)
	}
}
