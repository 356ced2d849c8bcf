package testenv

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

// SyncBuffer is a bytes.Buffer that a child process's copier writes while the test reads.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *SyncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *SyncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// Process is a running child program whose output the test reads.
type Process struct {
	Cmd    *exec.Cmd
	Stdout *SyncBuffer // every line printed so far
	Stderr *SyncBuffer
	done   chan struct{}
	err    error // Wait's error, set before done closes
}

// ReadyTimeout bounds the wait for a program to say it is ready. It only turns a hang into
// a failure; nothing waits for it to pass.
const ReadyTimeout = 60 * time.Second

// Start runs name with args and waits until it prints a line starting with ready, and
// returns the rest of that line. The test fails if the program ends first. When the test
// ends the program is interrupted (killed if it has not ended 10 s later), and the test
// fails if the race detector reported anything on its standard error.
func Start(t testing.TB, ready, name string, args ...string) (*Process, string) {
	t.Helper()
	p := &Process{Cmd: exec.Command(name, args...), Stdout: &SyncBuffer{}, Stderr: &SyncBuffer{}, done: make(chan struct{})}
	stdout, err := p.Cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p.Cmd.Stderr = p.Stderr
	if err := p.Cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.stop(t) })
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := sc.Text()
			p.Stdout.Write([]byte(line + "\n"))
			if rest, ok := strings.CutPrefix(strings.TrimSpace(line), ready); ok && ready != "" {
				select {
				case found <- rest:
				default:
				}
			}
		}
		io.Copy(io.Discard, stdout)
		p.err = p.Cmd.Wait()
		close(p.done)
	}()
	select {
	case rest := <-found:
		return p, rest
	case <-p.done:
		t.Fatalf("%s exited before it was ready (%v); it printed:\n%s\n%s", name, p.err, p.Stdout, p.Stderr)
	case <-time.After(ReadyTimeout):
		t.Fatalf("%s not ready after %v; it printed:\n%s\n%s", name, ReadyTimeout, p.Stdout, p.Stderr)
	}
	return nil, ""
}

// Done is closed when the program has ended.
func (p *Process) Done() <-chan struct{} { return p.done }

// Err is how the program ended; call it after Done is closed.
func (p *Process) Err() error { return p.err }

// Exited reports whether the program has ended.
func (p *Process) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Signal sends sig to the program.
func (p *Process) Signal(sig os.Signal) error { return p.Cmd.Process.Signal(sig) }

func (p *Process) stop(t testing.TB) {
	if !p.Exited() {
		p.Cmd.Process.Signal(os.Interrupt)
		select {
		case <-p.done:
		case <-time.After(10 * time.Second):
			p.Cmd.Process.Kill()
			<-p.done
		}
	}
	CheckNoRace(t, p.Cmd.Path, p.Stderr.String())
}

// CheckNoRace fails t if a program built with -race reported a data race in stderr.
func CheckNoRace(t testing.TB, name, stderr string) {
	t.Helper()
	if i := strings.Index(stderr, "WARNING: DATA RACE"); i >= 0 {
		t.Errorf("%s reported a data race:\n%s", name, stderr[i:])
	}
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago, for a program the
// test starts that cannot take port 0 (nginx's configuration files).
func FreePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}
