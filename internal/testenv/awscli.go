package testenv

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"os/exec"
	"strings"
	"sync"
	"testing"
)

// awsDriver runs AWS CLI commands read as JSON arrays from stdin, one a line, each with the
// CLI's own driver (a new session every time, as `aws` makes), and writes each one's
// stdout, stderr and exit code as a JSON line. It is the `aws` command without a Python
// start for every call: that start, not the call, is most of a CLI test's time.
const awsDriver = `
import contextlib, io, json, sys
import awscli.clidriver
out = sys.stdout
out.write("ready\n")
out.flush()
for line in sys.stdin:
    o, e = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(o), contextlib.redirect_stderr(e):
        try:
            rc = awscli.clidriver.create_clidriver().main(json.loads(line))
        except SystemExit as x:
            rc = x.code if isinstance(x.code, int) else 1
    out.write(json.dumps({"out": o.getvalue(), "err": e.getvalue(), "code": rc}) + "\n")
    out.flush()
`

// AWSCLI is the AWS CLI kept running for one test, with the environment it was started
// with. Where its Python cannot import awscli (an `aws` that is not the Python package),
// each command runs `aws` instead.
type AWSCLI struct {
	env []string

	mu   sync.Mutex // one command at a time
	in   io.WriteCloser
	out  *bufio.Reader
	errb *SyncBuffer
}

// StartAWSCLI starts the AWS CLI driver with env (which must name PATH), stopped when the
// test ends. The test must have checked for `aws` with Need.
func StartAWSCLI(t testing.TB, env []string) *AWSCLI {
	t.Helper()
	a := &AWSCLI{env: env, errb: &SyncBuffer{}}
	cmd := exec.Command("python3", "-c", awsDriver)
	cmd.Env = env
	cmd.Stderr = a.errb
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		return a // no python3 on PATH: aws per command
	}
	t.Cleanup(func() {
		in.Close()
		cmd.Wait()
	})
	a.out = bufio.NewReader(out)
	if ready, _ := a.out.ReadString('\n'); ready == "ready\n" {
		a.in = in
	} // else this python3 cannot import awscli: aws per command
	return a
}

// Run runs `aws args...` and returns its stdout, stderr and exit code.
func (a *AWSCLI) Run(t testing.TB, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.in != nil {
		line, err := json.Marshal(args)
		if err != nil {
			t.Fatal(err)
		}
		var res struct {
			Out, Err string
			Code     int
		}
		if _, err := a.in.Write(append(line, '\n')); err != nil {
			t.Fatalf("the AWS CLI driver: %v\n%s", err, a.errb)
		}
		resp, err := a.out.ReadBytes('\n')
		if err != nil || json.Unmarshal(resp, &res) != nil {
			t.Fatalf("the AWS CLI driver on aws %s: %v %q\n%s", strings.Join(args, " "), err, resp, a.errb)
		}
		return res.Out, res.Err, res.Code
	}
	cmd := exec.Command("aws", args...)
	cmd.Env = a.env
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return out.String(), errb.String(), ee.ExitCode()
	} else if err != nil {
		t.Fatalf("aws: %v", err)
	}
	return out.String(), errb.String(), 0
}

// MustRun runs `aws args...`, which must succeed, and returns its stdout.
func (a *AWSCLI) MustRun(t testing.TB, args ...string) string {
	t.Helper()
	out, errOut, code := a.Run(t, args...)
	if code != 0 {
		t.Fatalf("aws %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}
