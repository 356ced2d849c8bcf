package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ivs"
	"github.com/rogpeppe/go-internal/testscript"

	"github.com/playkey/playkey/internal/testenv"
)

// These tests run the real program, as a user would, and drive it with the AWS CLI. The
// program is this test binary itself: testscript.Main puts a copy named playkey on $PATH
// that runs main, so it is built exactly as the tests are (with -race when they are) and
// nothing is compiled twice.

var playkeyBin string

func TestMain(m *testing.M) {
	testscript.Main(findPlaykey{m}, map[string]func(){"playkey": main})
}

// findPlaykey sets playkeyBin once testscript.Main has put playkey on $PATH.
type findPlaykey struct{ m *testing.M }

func (f findPlaykey) Run() int {
	var err error
	if playkeyBin, err = exec.LookPath("playkey"); err != nil {
		fmt.Fprintln(os.Stderr, "playkey is not on $PATH:", err)
		return 1
	}
	return f.m.Run()
}

// server is a running `playkey serve` process.
type server struct {
	*testenv.Process
	endpoint string
	env      []string // AWS_* variables from the printed export lines
}

var exportLine = regexp.MustCompile(`^\s*export (AWS_[A-Z_]+)=(\S+)$`)

func startServer(t *testing.T, dataDir string, extra ...string) *server {
	t.Helper()
	// Ingest and the gate it starts take free ports, so that servers run side by side.
	args := append([]string{"serve", "--api-addr", "127.0.0.1:0", "--data", dataDir, "--ingest-addr", "127.0.0.1:0", "--playback-addr", "127.0.0.1:0"}, extra...)
	p, endpoint := testenv.Start(t, "playkey API listening on ", playkeyBin, args...)
	s := &server{Process: p, endpoint: endpoint}
	for line := range strings.Lines(p.Stdout.String()) {
		if m := exportLine.FindStringSubmatch(strings.TrimRight(line, "\n")); m != nil {
			s.env = append(s.env, m[1]+"="+m[2])
		}
	}
	if !s.healthy() {
		t.Fatalf("serve listens but /healthz fails:\n%s\n%s", p.Stdout, p.Stderr)
	}
	return s
}

func (s *server) healthy() bool {
	resp, err := testHTTP.Get(s.endpoint + "/healthz")
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == 200
}

// awsEnv is a clean environment for the AWS CLI: no user configuration leaks in.
func awsEnv(t *testing.T, creds []string) []string {
	dir := t.TempDir()
	env := []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + dir,
		"AWS_CONFIG_FILE=" + filepath.Join(dir, "config"),
		"AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(dir, "credentials"),
		"AWS_DEFAULT_REGION=us-west-2",
		"AWS_REGION=us-west-2",
		"AWS_PAGER=",
	}
	return append(env, creds...)
}

// run runs a command and returns stdout, stderr and the exit code.
func runCmd(t *testing.T, env []string, name string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = env
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return out.String(), errb.String(), code
}

func mustRun(t *testing.T, env []string, name string, args ...string) string {
	t.Helper()
	out, errOut, code := runCmd(t, env, name, args...)
	if code != 0 {
		t.Fatalf("%s %s: exit %d\n%s%s", name, strings.Join(args, " "), code, out, errOut)
	}
	return out
}

// opensslKey makes a P-384 key pair with the openssl commands of the IVS docs and returns
// the public key path and the fingerprint openssl computes.
func opensslKey(t *testing.T, dir, name string) (string, string) {
	t.Helper()
	_, pub := testenv.OpenSSLKeyPair(t, dir, name)
	return pub, testenv.OpenSSLFingerprint(t, "", pub)
}

func TestNewcomerFlowWithAWSCLI(t *testing.T) {
	t.Parallel()
	testenv.Need(t, "aws")
	testenv.Need(t, "openssl")
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	s := startServer(t, data)
	if len(s.env) < 2 {
		t.Fatalf("first serve printed no export lines:\n%s", s.Stdout)
	}
	if strings.Contains(s.Stderr.String(), strings.TrimPrefix(s.env[1], "AWS_SECRET_ACCESS_KEY=")) {
		t.Fatal("the secret access key appears in the log")
	}
	cli := testenv.StartAWSCLI(t, awsEnv(t, s.env))
	ivs := func(args ...string) map[string]any { t.Helper(); return awsIVS(t, cli, s.endpoint, args...) }

	pub, fp := opensslKey(t, dir, "k1")
	material, _ := os.ReadFile(pub)
	got := ivs("import-playback-key-pair", "--public-key-material", string(material), "--name", "first")
	kp := got["keyPair"].(map[string]any)
	arn, _ := kp["arn"].(string)
	if kp["fingerprint"] != fp || kp["name"] != "first" || !regexp.MustCompile(`^arn:aws:ivs:us-west-2:000000000000:playback-key/[a-zA-Z0-9]{12}$`).MatchString(arn) {
		t.Fatalf("import returned %v; openssl fingerprint %s", kp, fp)
	}
	if tags, ok := kp["tags"].(map[string]any); !ok || len(tags) != 0 {
		t.Fatalf("tags %v, want {}", kp["tags"])
	}
	got = ivs("get-playback-key-pair", "--arn", arn)
	if got["keyPair"].(map[string]any)["fingerprint"] != fp {
		t.Fatalf("get returned %v", got)
	}
	ivs("tag-resource", "--resource-arn", arn, "--tags", "env=test,team=video")
	ivs("untag-resource", "--resource-arn", arn, "--tag-keys", "team")
	got = ivs("list-tags-for-resource", "--resource-arn", arn)
	if tags := got["tags"].(map[string]any); len(tags) != 1 || tags["env"] != "test" {
		t.Fatalf("tags %v", got)
	}

	for i := 2; i <= 3; i++ {
		p, _ := opensslKey(t, dir, fmt.Sprint("k", i))
		m, _ := os.ReadFile(p)
		ivs("import-playback-key-pair", "--public-key-material", string(m))
	}
	got = ivs("list-playback-key-pairs")
	if n := len(got["keyPairs"].([]any)); n != 3 {
		t.Fatalf("list: %d key pairs, want 3", n)
	}
	p4, _ := opensslKey(t, dir, "k4")
	m4, _ := os.ReadFile(p4)
	_, stderr, code := cli.Run(t, "ivs", "--endpoint-url", s.endpoint, "import-playback-key-pair", "--public-key-material", string(m4))
	if code == 0 || !strings.Contains(stderr, "ServiceQuotaExceededException") {
		t.Fatalf("4th import: exit %d, %s", code, stderr)
	}
	_, stderr, code = cli.Run(t, "ivs", "--endpoint-url", s.endpoint, "import-playback-key-pair", "--public-key-material", string(material))
	if code == 0 || !strings.Contains(stderr, "ConflictException") {
		t.Fatalf("duplicate import: exit %d, %s", code, stderr)
	}

	// kill -9, restart on the same data directory: everything acknowledged is still there,
	// and the generated credentials still work.
	s.Signal(syscall.SIGKILL)
	<-s.Done()
	s2 := startServer(t, data)
	if len(s2.env) != 0 {
		t.Errorf("second serve printed the credentials again:\n%s", s2.Stdout)
	}
	s.endpoint = s2.endpoint
	got = ivs("get-playback-key-pair", "--arn", arn)
	if got["keyPair"].(map[string]any)["fingerprint"] != fp {
		t.Fatalf("after kill -9: %v", got)
	}
	ivs("delete-playback-key-pair", "--arn", arn)
	ivs("import-playback-key-pair", "--public-key-material", string(m4))

	// SIGTERM shuts down cleanly.
	s2.Signal(syscall.SIGTERM)
	select {
	case <-s2.Done():
		if err := s2.Err(); err != nil {
			t.Fatalf("exit after SIGTERM: %v\n%s", err, s2.Stderr)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("no exit 15s after SIGTERM")
	}
	// One log line per request, with operation, account and status; never a secret.
	logs := s2.Stderr.String()
	if !regexp.MustCompile(`op=ImportPlaybackKeyPair account=000000000000 region=us-west-2 status=200`).MatchString(logs) {
		t.Errorf("no request log line for the import:\n%s", logs)
	}
}

func TestKeysCommands(t *testing.T) {
	t.Parallel()
	testenv.Need(t, "openssl")
	dir := t.TempDir()
	s := startServer(t, filepath.Join(dir, "data"))
	env := append(awsEnv(t, s.env), "PLAYKEY_ENDPOINT_URL="+s.endpoint)
	priv := filepath.Join(dir, "priv.pem")
	out := mustRun(t, env, playkeyBin, "keys", "create", "--name", "console-made", "-o", priv)
	arn := regexp.MustCompile(`arn:aws:ivs:\S+`).FindString(out)
	fp := regexp.MustCompile(`fingerprint:\s+(\S+)`).FindStringSubmatch(out)
	if arn == "" || fp == nil {
		t.Fatalf("keys create printed:\n%s", out)
	}
	if st, err := os.Stat(priv); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("private key file: %v %v", st, err)
	}
	// The private key written locally is the half of the public key the server holds.
	pubOut := mustRun(t, os.Environ(), "sh", "-c", "openssl ec -in '"+priv+"' -pubout 2>/dev/null | openssl pkey -pubin -outform DER | openssl md5 -c")
	if !strings.HasSuffix(strings.TrimSpace(pubOut), fp[1]) {
		t.Fatalf("openssl fingerprint of the private key's public half %q, server %q", pubOut, fp[1])
	}
	if _, errOut, code := runCmd(t, env, playkeyBin, "keys", "create", "-o", priv); code == 0 || !strings.Contains(errOut, "exists") {
		t.Fatalf("keys create over an existing file: exit %d %s", code, errOut)
	}

	pub, ofp := opensslKey(t, dir, "imported")
	out = mustRun(t, env, playkeyBin, "keys", "import", pub, "--name", "imp", "--tag", "a=b")
	if !strings.Contains(out, ofp) {
		t.Fatalf("keys import printed:\n%s", out)
	}
	out = mustRun(t, env, playkeyBin, "keys", "list")
	if !strings.Contains(out, arn) || !strings.Contains(out, ofp) || !strings.Contains(out, "a=b") {
		t.Fatalf("keys list printed:\n%s", out)
	}
	out = mustRun(t, env, playkeyBin, "keys", "get", arn, "--output", "json")
	var got struct{ KeyPair struct{ Fingerprint string } }
	if err := json.Unmarshal([]byte(out), &got); err != nil || got.KeyPair.Fingerprint != fp[1] {
		t.Fatalf("keys get --output json: %v\n%s", err, out)
	}
	mustRun(t, env, playkeyBin, "keys", "delete", arn)
	if _, errOut, code := runCmd(t, env, playkeyBin, "keys", "get", arn); code != 1 || !strings.Contains(errOut, "ResourceNotFoundException") {
		t.Fatalf("keys get after delete: exit %d %s", code, errOut)
	}
	if _, errOut, code := runCmd(t, env, playkeyBin, "keys", "import", priv); code != 1 || !strings.Contains(errOut, "ValidationException") {
		t.Fatalf("importing a private key: exit %d %s", code, errOut)
	}
}

func TestKeygen(t *testing.T) {
	t.Parallel()
	testenv.Need(t, "openssl")
	dir := t.TempDir()
	priv, pub := filepath.Join(dir, "priv.pem"), filepath.Join(dir, "public.pem")
	out := mustRun(t, os.Environ(), playkeyBin, "keygen", "-o", priv, "--public-out", pub)
	st, err := os.Stat(priv)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("private key mode: %v %v", st, err)
	}
	// openssl reads both, and derives from the private key exactly the public file we wrote.
	mustRun(t, os.Environ(), "openssl", "ec", "-in", priv, "-check", "-noout")
	derived := mustRun(t, os.Environ(), "openssl", "ec", "-in", priv, "-pubout")
	written, _ := os.ReadFile(pub)
	if derived != string(written) {
		t.Fatalf("public key file differs from openssl's:\n%s\n%s", written, derived)
	}
	osslFP := mustRun(t, os.Environ(), "sh", "-c", "openssl pkey -pubin -in '"+pub+"' -outform DER | openssl md5 -c")
	if fp := regexp.MustCompile(`fingerprint: (\S+)`).FindStringSubmatch(out); fp == nil || !strings.HasSuffix(strings.TrimSpace(osslFP), fp[1]) {
		t.Fatalf("keygen fingerprint %v, openssl %q", fp, osslFP)
	}
	before, _ := os.ReadFile(priv)
	if _, _, code := runCmd(t, os.Environ(), playkeyBin, "keygen", "-o", priv); code == 0 {
		t.Fatal("keygen overwrote an existing key")
	}
	after, _ := os.ReadFile(priv)
	if !bytes.Equal(before, after) {
		t.Fatal("keygen changed an existing key")
	}
	if _, _, code := runCmd(t, os.Environ(), playkeyBin, "keygen"); code != 2 {
		t.Fatalf("keygen without -o: exit %d, want 2", code)
	}
	_ = io.Discard
}

// TestInsecureAcceptAnyKey: the opt-in accepts any access key and secret, the account is a
// 12-digit key id, the server says so loudly, and it creates and prints no credentials.
func TestInsecureAcceptAnyKey(t *testing.T) {
	t.Parallel()
	testenv.Need(t, "aws")
	testenv.Need(t, "openssl")
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	s := startServer(t, data, "--insecure-accept-any-key")
	if len(s.env) != 0 {
		t.Errorf("printed credentials with --insecure-accept-any-key:\n%s", s.Stdout)
	}
	if _, err := os.Stat(filepath.Join(data, "credentials")); err == nil {
		t.Error("created a credentials file with --insecure-accept-any-key")
	}
	if !strings.Contains(s.Stderr.String(), "WARNING: --insecure-accept-any-key is on") ||
		!regexp.MustCompile(`level=WARN msg="INSECURE: --insecure-accept-any-key`).MatchString(s.Stderr.String()) {
		t.Errorf("no loud warning on stderr and in the log:\n%s", s.Stderr)
	}
	pub, fp := opensslKey(t, dir, "k")
	material, _ := os.ReadFile(pub)
	cli := func(key string, args ...string) (string, string, int) {
		env := awsEnv(t, []string{"AWS_ACCESS_KEY_ID=" + key, "AWS_SECRET_ACCESS_KEY=not-checked-" + key})
		return runCmd(t, env, "aws", append([]string{"ivs", "--endpoint-url", s.endpoint, "--output", "json"}, args...)...)
	}
	out, errOut, code := cli("123456789012", "import-playback-key-pair", "--public-key-material", string(material))
	if code != 0 || !strings.Contains(out, `"arn:aws:ivs:us-west-2:123456789012:playback-key/`) || !strings.Contains(out, fp) {
		t.Fatalf("import as 123456789012: exit %d\n%s%s", code, out, errOut)
	}
	// Another key is another account; a key id that is not 12 digits is 000000000000.
	for key, want := range map[string]string{"210987654321": `"keyPairs": []`, "AKIAANYTHING": `"keyPairs": []`, "123456789012": ":123456789012:playback-key/"} {
		if out, errOut, code := cli(key, "list-playback-key-pairs"); code != 0 || !strings.Contains(out, want) {
			t.Errorf("list as %s: exit %d, want %q\n%s%s", key, code, want, out, errOut)
		}
	}
	if _, errOut, code := cli("AKIAANYTHING", "import-playback-key-pair", "--public-key-material", string(material)); code != 0 {
		t.Errorf("the same key in account 000000000000: exit %d %s", code, errOut)
	}
	if !strings.Contains(s.Stderr.String(), "op=ListPlaybackKeyPairs account=000000000000") {
		t.Errorf("no log line for the non-numeric key's account:\n%s", s.Stderr)
	}
	if strings.Contains(s.Stderr.String(), "not-checked-") {
		t.Errorf("a secret reached the log:\n%s", s.Stderr)
	}
}

// TestUncleanPathsAnsweredByAPI: a path that http.ServeMux would redirect to its cleaned
// form gets the API's answer instead, in AWS's shape.
func TestUncleanPathsAnsweredByAPI(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := startServer(t, filepath.Join(dir, "data"))
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, p := range []string{"//ListPlaybackKeyPairs", "/x/../ListPlaybackKeyPairs", "/console/../ImportPlaybackKeyPair",
		"/tags/arn:aws:ivs:us-west-2:000000000000:playback-key//x", "/tags"} {
		resp, err := noRedirect.Post(s.endpoint+p, "application/json", strings.NewReader(`{}`))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 403 || resp.Header.Get("x-amzn-ErrorType") != "MissingAuthenticationTokenException" ||
			resp.Header.Get("x-amzn-RequestId") == "" || !bytes.Contains(body, []byte(`"exceptionMessage"`)) {
			t.Errorf("unsigned POST %s: %d %v %s", p, resp.StatusCode, resp.Header, body)
		}
	}
	// The console and the health check are still served.
	for p, want := range map[string]int{"/healthz": 200, "/console/": 200} {
		resp, err := noRedirect.Get(s.endpoint + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("GET %s: %d, want %d", p, resp.StatusCode, want)
		}
	}
}

// TestKillDashNineUnderConcurrentWrites imports and deletes key pairs from many goroutines
// through the AWS SDK, kills the server with SIGKILL in the middle, and restarts it on the
// same data directory: every import answered 200 is there with its fingerprint, every
// delete answered 200 is gone, and no account and region holds more than 3 key pairs.
func TestKillDashNineUnderConcurrentWrites(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	credFile, creds := writeCredentials(t, dir, "111111111111", "222222222222")
	regions := []string{"us-west-2", "eu-west-1", "ap-northeast-1"}
	s := startServer(t, data, "--credentials", credFile)

	type scope struct{ cred, region int }
	type state int
	const (
		present  state = iota // import acknowledged
		deleting              // delete sent, not acknowledged
		deleted               // delete acknowledged
	)
	var (
		mu      sync.Mutex
		keys    = map[string]state{}  // ARN -> what the client knows
		fps     = map[string]string{} // ARN -> fingerprint
		byScope = map[scope][]string{}
		acked   atomic.Int64
		killed  atomic.Bool
	)
	pems := newPublicKeyPEMs(t, 200)
	var next atomic.Int64
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	for w := range 12 {
		wg.Go(func() {
			rnd := mrand.New(mrand.NewPCG(uint64(w), 1))
			for ctx.Err() == nil {
				sc := scope{rnd.IntN(len(creds)), rnd.IntN(len(regions))}
				c := ivsClient(s.endpoint, creds[sc.cred], regions[sc.region], nil)
				mu.Lock()
				var victim string
				if live := byScope[sc]; len(live) > 0 && rnd.IntN(2) == 0 {
					victim = live[rnd.IntN(len(live))]
					keys[victim] = deleting
					byScope[sc] = slices.DeleteFunc(live, func(a string) bool { return a == victim })
				}
				mu.Unlock()
				if victim != "" {
					_, err := c.DeletePlaybackKeyPair(ctx, &ivs.DeletePlaybackKeyPairInput{Arn: aws.String(victim)})
					if err == nil {
						mu.Lock()
						keys[victim] = deleted
						mu.Unlock()
						acked.Add(1)
					} else if !killed.Load() && ctx.Err() == nil {
						t.Errorf("delete %s: %v", victim, err)
					}
					continue
				}
				i := int(next.Add(1)) % len(pems)
				out, err := c.ImportPlaybackKeyPair(ctx, &ivs.ImportPlaybackKeyPairInput{PublicKeyMaterial: aws.String(pems[i])})
				switch code := apiCode(err); {
				case err == nil:
					arn := aws.ToString(out.KeyPair.Arn)
					mu.Lock()
					keys[arn], fps[arn] = present, aws.ToString(out.KeyPair.Fingerprint)
					byScope[sc] = append(byScope[sc], arn)
					mu.Unlock()
					acked.Add(1)
				case code == "ServiceQuotaExceededException" || code == "ConflictException":
				case !killed.Load() && ctx.Err() == nil:
					t.Errorf("import: %v", err)
				}
			}
		})
	}
	deadline := time.Now().Add(60 * time.Second)
	for acked.Load() < 150 && time.Now().Before(deadline) && !t.Failed() {
		time.Sleep(5 * time.Millisecond)
	}
	killed.Store(true)
	if err := s.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-s.Done()
	cancel()
	wg.Wait()
	if n := acked.Load(); n < 150 {
		t.Fatalf("only %d writes acknowledged before the kill", n)
	}

	s2 := startServer(t, data, "--credentials", credFile)
	ctx = context.Background()
	for _, cred := range creds {
		for _, region := range regions {
			c := ivsClient(s2.endpoint, cred, region, nil)
			out, err := c.ListPlaybackKeyPairs(ctx, &ivs.ListPlaybackKeyPairsInput{})
			if err != nil {
				t.Fatal(err)
			}
			if len(out.KeyPairs) > 3 {
				t.Errorf("%s %s holds %d key pairs", cred.account, region, len(out.KeyPairs))
			}
			listed := map[string]bool{}
			for _, kp := range out.KeyPairs {
				listed[aws.ToString(kp.Arn)] = true
			}
			for arn := range keys {
				if !strings.Contains(arn, ":"+region+":"+cred.account+":") {
					continue
				}
				switch keys[arn] {
				case present:
					if !listed[arn] {
						t.Errorf("acknowledged import %s lost after kill -9", arn)
						continue
					}
					got, err := c.GetPlaybackKeyPair(ctx, &ivs.GetPlaybackKeyPairInput{Arn: aws.String(arn)})
					if err != nil || aws.ToString(got.KeyPair.Fingerprint) != fps[arn] {
						t.Errorf("get %s after kill -9: %v", arn, err)
					}
				case deleted:
					if listed[arn] {
						t.Errorf("acknowledged delete of %s undone after kill -9", arn)
					}
				}
			}
		}
	}
	t.Logf("%d writes acknowledged before kill -9, %d key pairs known", acked.Load(), len(keys))
}
