package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ivs"

	"github.com/playkey/playkey"
	"github.com/playkey/playkey/internal/testenv"
)

// privatePostgres is a PostgreSQL cluster of one test's own, in a temporary directory, that
// the test may stop, freeze and start again without disturbing the server other tests use.
type privatePostgres struct {
	t    *testing.T
	bin  string   // the directory of initdb, pg_ctl and postgres
	dir  string   // holds the data directory, the log and the Unix socket
	as   []string // the command prefix that runs as the cluster's owner
	port int
}

// postgresBinDir finds the server's programs: pg_config's bindir, else the newest
// /usr/lib/postgresql/*/bin. It skips t when there are none, unless $CI is set.
func postgresBinDir(t *testing.T) string {
	t.Helper()
	var dirs []string
	if out, err := exec.Command("pg_config", "--bindir").Output(); err == nil {
		dirs = append(dirs, strings.TrimSpace(string(out)))
	}
	globbed, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	slices.Reverse(globbed)
	for _, d := range append(dirs, globbed...) {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			if _, err := os.Stat(filepath.Join(d, "pg_ctl")); err == nil {
				return d
			}
		}
	}
	testenv.Missing(t, "the PostgreSQL server programs (initdb, pg_ctl)", testenv.Install("initdb"), errors.New("not found"))
	return ""
}

// startPrivatePostgres creates a cluster and starts it on a free port of 127.0.0.1, with
// durability off (it is thrown away). initdb refuses to run as root, so as root the cluster
// belongs to the postgres user.
func startPrivatePostgres(t *testing.T) *privatePostgres {
	t.Helper()
	p := &privatePostgres{t: t, bin: postgresBinDir(t)}
	dir, err := os.MkdirTemp("", "playkey-pg-")
	if err != nil {
		t.Fatal(err)
	}
	p.dir = dir
	t.Cleanup(func() { os.RemoveAll(dir) })
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Fatalf("running as root, a postgres user is needed to own the test cluster: %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
		p.as = []string{"runuser", "-u", "postgres", "--"}
	}
	p.run("initdb", "-D", p.data(), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.port = ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	p.start()
	t.Cleanup(func() {
		p.signal(syscall.SIGCONT) // a frozen cluster cannot stop
		p.cmd("pg_ctl", "-D", p.data(), "-m", "immediate", "-w", "stop").Run()
	})
	return p
}

func (p *privatePostgres) data() string { return filepath.Join(p.dir, "data") }

// URL is the cluster's database URL, with extra query parameters (name, value...).
func (p *privatePostgres) URL(params ...string) string {
	u := fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", p.port)
	for i := 0; i+1 < len(params); i += 2 {
		u += "&" + params[i] + "=" + params[i+1]
	}
	return u
}

func (p *privatePostgres) cmd(prog string, args ...string) *exec.Cmd {
	argv := append(slices.Clone(p.as), append([]string{filepath.Join(p.bin, prog)}, args...)...)
	c := exec.Command(argv[0], argv[1:]...)
	c.Dir = p.dir // the owner may not be able to enter the test's directory
	return c
}

func (p *privatePostgres) run(prog string, args ...string) {
	p.t.Helper()
	if out, err := p.cmd(prog, args...).CombinedOutput(); err != nil {
		log, _ := os.ReadFile(filepath.Join(p.dir, "log"))
		p.t.Fatalf("%s %s: %v\n%s\n%s", prog, strings.Join(args, " "), err, out, log)
	}
}

// start starts the cluster and waits until it accepts connections.
func (p *privatePostgres) start() {
	p.t.Helper()
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=60 -c shared_buffers=16MB",
		p.port, p.dir)
	p.run("pg_ctl", "-D", p.data(), "-l", filepath.Join(p.dir, "log"), "-o", opts, "-w", "-t", "60", "start")
}

// stop shuts the cluster down as an operator would for maintenance: "fast" ends every
// session at once and waits for the server to exit.
func (p *privatePostgres) stop() {
	p.t.Helper()
	p.run("pg_ctl", "-D", p.data(), "-m", "fast", "-w", "stop")
}

// signal sends sig to the postmaster and every process it started; SIGSTOP freezes the
// cluster as a machine that stops answering would (connections open, nothing comes back).
func (p *privatePostgres) signal(sig syscall.Signal) {
	pidFile, err := os.ReadFile(filepath.Join(p.data(), "postmaster.pid"))
	if err != nil {
		return
	}
	first, _, _ := strings.Cut(string(pidFile), "\n")
	master, err := strconv.Atoi(strings.TrimSpace(first))
	if err != nil {
		return
	}
	pids := []int{master}
	procs, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, f := range procs {
		stat, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: comm may hold spaces, so read after the last ')'.
		fields := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
		if len(fields) > 1 && fields[1] == strconv.Itoa(master) {
			pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(f)))
			pids = append(pids, pid)
		}
	}
	for _, pid := range pids {
		syscall.Kill(pid, sig)
	}
}

// wireRecorder is an HTTP client for the SDK that keeps what the server answered, so
// that a test sees the response on the wire as well as the SDK's reading of it.
type wireRecorder struct {
	mu     sync.Mutex
	status int
	header http.Header
	body   []byte
}

var outageHTTP = &http.Client{Timeout: 30 * time.Second} // a hang shows as a failure, not a stuck test

func (r *wireRecorder) Do(req *http.Request) (*http.Response, error) {
	resp, err := outageHTTP.Do(req)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	r.mu.Lock()
	r.status, r.header, r.body = resp.StatusCode, resp.Header.Clone(), body
	r.mu.Unlock()
	return resp, nil
}

// TestStoreOutage runs `playkey serve` on a PostgreSQL cluster of its own and takes the
// cluster away twice: stopped (pg_ctl stop -m fast: sessions ended, connections refused)
// and frozen (SIGSTOP: connections accepted, nothing answered). While it is away, every
// API call answers 503 ServiceUnavailable in the AWS shape within the store's timeout,
// and /healthz answers 503. When it is back, the same process serves again by itself.
func TestStoreOutage(t *testing.T) {
	t.Parallel()
	const storeTimeout = 2 * time.Second
	// The bound catches a call that hangs, not a loaded machine (a process under -race may
	// not be scheduled for seconds); that the store's timeout fired shows in the 503 itself.
	const grace = 10 * time.Second
	pg := startPrivatePostgres(t)
	dir := t.TempDir()
	credFile, creds := writeCredentials(t, dir, "123456789012")
	s := startServer(t, filepath.Join(dir, "data"), "--credentials", credFile,
		"--store", pg.URL("playkey_timeout", storeTimeout.String()))
	c := ivsClient(s.endpoint, creds[0], "us-west-2", nil)
	ctx := context.Background()

	pems := newPublicKeyPEMs(t, 3)
	imp, err := c.ImportPlaybackKeyPair(ctx, &ivs.ImportPlaybackKeyPairInput{PublicKeyMaterial: aws.String(pems[0])})
	if err != nil {
		t.Fatal(err)
	}
	kp := imp.KeyPair
	ch, err := c.CreateChannel(ctx, &ivs.CreateChannelInput{Name: aws.String("outage")})
	if err != nil {
		t.Fatal(err)
	}
	keyARN := aws.ToString(kp.Arn)
	absentKey := keyARN[:len(keyARN)-12] + "AAAAAAAAAAAA" // well formed, never created

	// One call of each kind the API makes of the store: reads, writes, checks under locks.
	type call struct {
		name string
		f    func(ctx context.Context, opt func(*ivs.Options)) error
	}
	calls := []call{
		{"GetPlaybackKeyPair", func(ctx context.Context, o func(*ivs.Options)) error {
			_, err := c.GetPlaybackKeyPair(ctx, &ivs.GetPlaybackKeyPairInput{Arn: kp.Arn}, o)
			return err
		}},
		{"ListPlaybackKeyPairs", func(ctx context.Context, o func(*ivs.Options)) error {
			_, err := c.ListPlaybackKeyPairs(ctx, &ivs.ListPlaybackKeyPairsInput{}, o)
			return err
		}},
		{"ImportPlaybackKeyPair", func(ctx context.Context, o func(*ivs.Options)) error {
			_, err := c.ImportPlaybackKeyPair(ctx, &ivs.ImportPlaybackKeyPairInput{PublicKeyMaterial: aws.String(pems[1])}, o)
			if apiCode(err) == playkey.ErrConflict {
				return nil // imported by an earlier phase
			}
			return err
		}},
		{"DeletePlaybackKeyPair", func(ctx context.Context, o func(*ivs.Options)) error {
			_, err := c.DeletePlaybackKeyPair(ctx, &ivs.DeletePlaybackKeyPairInput{Arn: aws.String(absentKey)}, o)
			if apiCode(err) == playkey.ErrResourceNotFound {
				return nil
			}
			return err
		}},
		{"TagResource", func(ctx context.Context, o func(*ivs.Options)) error {
			_, err := c.TagResource(ctx, &ivs.TagResourceInput{ResourceArn: kp.Arn, Tags: map[string]string{"phase": "any"}}, o)
			return err
		}},
		{"GetChannel", func(ctx context.Context, o func(*ivs.Options)) error {
			_, err := c.GetChannel(ctx, &ivs.GetChannelInput{Arn: ch.Channel.Arn}, o)
			return err
		}},
		{"UpdateChannel", func(ctx context.Context, o func(*ivs.Options)) error {
			_, err := c.UpdateChannel(ctx, &ivs.UpdateChannelInput{Arn: ch.Channel.Arn, Authorized: true}, o)
			return err
		}},
		{"StartViewerSessionRevocation", func(ctx context.Context, o func(*ivs.Options)) error {
			_, err := c.StartViewerSessionRevocation(ctx, &ivs.StartViewerSessionRevocationInput{
				ChannelArn: ch.Channel.Arn, ViewerId: aws.String("viewer")}, o)
			return err
		}},
	}

	noOpt := func(*ivs.Options) {}
	healthz := func() int {
		resp, err := outageHTTP.Get(s.endpoint + "/healthz")
		if err != nil {
			t.Fatalf("/healthz: %v", err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}

	// outage makes every call at once, several times over (more calls than the pool has
	// connections), and checks that each answers 503 ServiceUnavailable, in the AWS shape
	// on the wire and as the SDK reads it, within the store's timeout.
	outage := func(phase string) {
		t.Helper()
		var (
			mu      sync.Mutex
			slowest time.Duration
			wg      sync.WaitGroup
			n       int
		)
		for round := range 3 {
			for _, cl := range calls {
				n++
				wg.Go(func() {
					rec := &wireRecorder{}
					start := time.Now()
					err := cl.f(ctx, func(o *ivs.Options) { o.HTTPClient = rec })
					elapsed := time.Since(start)
					mu.Lock()
					slowest = max(slowest, elapsed)
					mu.Unlock()
					name := fmt.Sprintf("%s: %s #%d", phase, cl.name, round)
					if elapsed > storeTimeout+grace {
						t.Errorf("%s took %v, more than the store timeout %v", name, elapsed, storeTimeout)
					}
					if code := apiCode(err); code != playkey.ErrServiceUnavailable {
						t.Errorf("%s: %v, want ServiceUnavailable", name, err)
						return
					}
					rec.mu.Lock()
					defer rec.mu.Unlock()
					var body struct{ Message, ExceptionMessage string }
					if rec.status != http.StatusServiceUnavailable || rec.header.Get("x-amzn-ErrorType") != playkey.ErrServiceUnavailable ||
						rec.header.Get("x-amzn-RequestId") == "" || json.Unmarshal(rec.body, &body) != nil ||
						body.Message == "" || body.Message != body.ExceptionMessage {
						t.Errorf("%s: HTTP %d %v %s, want 503 with x-amzn-ErrorType ServiceUnavailable, a request id and a message",
							name, rec.status, rec.header, rec.body)
					}
				})
			}
		}
		start := time.Now()
		if code := healthz(); code != http.StatusServiceUnavailable {
			t.Errorf("%s: /healthz answered %d, want 503", phase, code)
		}
		hz := time.Since(start)
		wg.Wait()
		t.Logf("%-8s %d API calls all 503 ServiceUnavailable, the slowest in %v; /healthz 503 in %v (store timeout %v)",
			phase+":", n, slowest.Round(time.Millisecond), hz.Round(time.Millisecond), storeTimeout)
	}

	// recovered waits for the first call to succeed again, then requires every call to.
	recovered := func(phase string, back time.Time) {
		t.Helper()
		for {
			err := calls[0].f(ctx, noOpt)
			if err == nil {
				break
			}
			if apiCode(err) != playkey.ErrServiceUnavailable {
				t.Fatalf("%s: %v while the store comes back, want success or ServiceUnavailable", phase, err)
			}
			if time.Since(back) > 15*time.Second {
				t.Fatalf("%s: still %v 15s after the database came back", phase, err)
			}
			time.Sleep(20 * time.Millisecond)
		}
		took := time.Since(back)
		for _, cl := range calls {
			if err := cl.f(ctx, noOpt); err != nil {
				t.Errorf("%s: %s: %v", phase, cl.name, err)
			}
		}
		if code := healthz(); code != http.StatusOK {
			t.Errorf("%s: /healthz answered %d, want 200", phase, code)
		}
		if s.Exited() {
			t.Fatalf("%s: serve exited", phase)
		}
		t.Logf("%-8s the same process served again %v after the database was back", phase+":", took.Round(time.Millisecond))
	}

	for _, cl := range calls {
		if err := cl.f(ctx, noOpt); err != nil {
			t.Fatalf("before the outage: %s: %v", cl.name, err)
		}
	}

	pg.stop()
	outage("stopped")
	outage("stopped") // and again, with the pool's connections all gone
	pg.start()
	recovered("restart", time.Now())

	pg.signal(syscall.SIGSTOP)
	outage("frozen")
	pg.signal(syscall.SIGCONT)
	recovered("thawed", time.Now())

	got, err := c.GetPlaybackKeyPair(ctx, &ivs.GetPlaybackKeyPairInput{Arn: kp.Arn})
	if err != nil || aws.ToString(got.KeyPair.Fingerprint) != aws.ToString(kp.Fingerprint) {
		t.Fatalf("after the outages: %v, %v", got, err)
	}
	logs := s.Stderr.String()
	if status5xx.MatchString(strings.ReplaceAll(logs, "status=503", "")) {
		t.Errorf("a call answered a 5xx other than 503:\n%s", logs)
	}
	if !strings.Contains(logs, "store unavailable") {
		t.Errorf("no store unavailable warning in the log:\n%s", logs)
	}
}
