package postgres_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	neturl "net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/playkey/playkey"
	"github.com/playkey/playkey/api"
	"github.com/playkey/playkey/postgres/pgtest"
	"github.com/playkey/playkey/storetest"
)

// fixedCaller authenticates every request as one caller.
type fixedCaller api.Caller

func (c fixedCaller) Authenticate(*http.Request) (api.Caller, error) { return api.Caller(c), nil }

// TestUnavailable puts a proxy between a store and PostgreSQL, and makes the database go
// away in the ways it can: down (connections reset and refused), partitioned (bytes stop,
// connections hang) and restarted (backends terminated, as by a shutdown). While it is
// away, every call fails with ServiceUnavailable, and the API answers 503, within the
// store's timeout; no call hangs. When it is back, the same store serves again at once,
// without being reopened.
func TestUnavailable(t *testing.T) {
	const timeout = time.Second
	// A failed call's connection is torn down after its context ends, and a loaded machine
	// may not schedule the caller for a while: the bound catches a call that hangs, not a
	// slow machine (that the timeout fired shows in the ServiceUnavailable itself).
	const grace = 10 * time.Second
	bound := timeout + grace

	cfg, err := pgconn.ParseConfig(pgtest.BaseURL())
	if err != nil {
		t.Fatal(err)
	}
	if strings.HasPrefix(cfg.Host, "/") {
		t.Skip("the test server is on a Unix socket; the proxy speaks TCP")
	}
	_, schemaURL := newSchema(t)
	p := startProxy(t, net.JoinHostPort(cfg.Host, strconv.Itoa(int(cfg.Port))))
	app := "playkey_test_" + strings.ToLower(playkey.RandomString(8))
	u, err := neturl.Parse(pgtest.WithParams(schemaURL, "playkey_timeout", timeout.String(), "application_name", app))
	if err != nil {
		t.Fatal(err)
	}
	u.Host = p.addr()
	s := open(t, u.String())

	ctx := context.Background()
	scope := playkey.Scope{Account: "123456789012", Region: "us-west-2"}
	kp := storetest.NewKeyPair(scope)
	kp.Tags = map[string]string{"a": "1"}
	if err := s.CreateKeyPair(ctx, kp); err != nil {
		t.Fatal(err)
	}
	ch := playkey.NewChannel(playkey.ARN{Region: scope.Region, Account: scope.Account, Type: playkey.TypeChannel, ID: playkey.NewID()}, time.Now())
	if err := s.CreateChannel(ctx, ch, playkey.NewStreamKey(ch.ARN, time.Now())); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(api.New(api.Config{Store: s, Auth: fixedCaller{Account: scope.Account, Region: scope.Region}}))
	defer srv.Close()

	// Every call returns nil or ResourceNotFound while the database is there.
	fresh := func() playkey.Scope {
		return playkey.Scope{Account: fmt.Sprintf("%012d", time.Now().UnixNano()%1e12), Region: "eu-west-1"}
	}
	calls := []struct {
		name string
		f    func(ctx context.Context) error
	}{
		{"Ping", s.Ping},
		{"KeyPair", func(ctx context.Context) error { _, err := s.KeyPair(ctx, kp.ARN); return err }},
		{"KeyPairs", func(ctx context.Context) error { _, err := s.KeyPairs(ctx, scope, playkey.Page{}); return err }},
		{"CreateKeyPair", func(ctx context.Context) error { return s.CreateKeyPair(ctx, storetest.NewKeyPair(fresh())) }},
		{"DeleteKeyPair", func(ctx context.Context) error { return s.DeleteKeyPair(ctx, storetest.KeyPairARN(scope, "absent")) }},
		{"Tags", func(ctx context.Context) error { _, err := s.Tags(ctx, kp.ARN); return err }},
		{"TagResource", func(ctx context.Context) error { return s.TagResource(ctx, kp.ARN, map[string]string{"b": "2"}) }},
		{"UntagResource", func(ctx context.Context) error { return s.UntagResource(ctx, kp.ARN, []string{"b"}) }},
		{"Secret", func(ctx context.Context) error { _, err := s.Secret(ctx, "pagination"); return err }},
		{"Channel", func(ctx context.Context) error { _, err := s.Channel(ctx, ch.ARN); return err }},
		{"UpdateChannel", func(ctx context.Context) error {
			_, err := s.UpdateChannel(ctx, ch.ARN, func(c *playkey.Channel) error { c.Name = "renamed"; return nil })
			return err
		}},
		{"StreamKeys", func(ctx context.Context) error { _, err := s.StreamKeys(ctx, ch.ARN, playkey.Page{}); return err }},
		{"RevokeViewerSessions", func(ctx context.Context) error {
			return s.RevokeViewerSessions(ctx, ch.ARN, "viewer", time.Now().UnixNano()%1e9)
		}},
		{"RevocationsSince", func(ctx context.Context) error { _, err := s.RevocationsSince(ctx, 0, 10); return err }},
		{"SingleUse", func(ctx context.Context) error {
			_, err := s.SingleUse(ctx, scope, playkey.RandomString(16), time.Now().Add(time.Minute), true)
			return err
		}},
		{"GetPlaybackKeyPair (HTTP)", func(ctx context.Context) error { return getOverHTTP(ctx, srv.URL, kp.ARN) }},
	}

	type result struct {
		err     error
		elapsed time.Duration
	}
	up := func(err error) bool { return err == nil || playkey.IsCode(err, playkey.ErrResourceNotFound) }
	unavailable := func(err error) bool { return playkey.IsCode(err, playkey.ErrServiceUnavailable) }
	var worst time.Duration
	// expect makes every call at once, plus a dozen reads so that more calls run than the
	// pool has connections, and checks each result and how long it took.
	expect := func(phase string, ok func(error) bool, what string) {
		t.Helper()
		fs := make(map[string]func(context.Context) error)
		for _, c := range calls {
			fs[c.name] = c.f
		}
		for i := range 12 {
			fs[fmt.Sprintf("%s #%d", calls[1+i%3].name, i)] = calls[1+i%3].f
		}
		var (
			mu      sync.Mutex
			results = map[string]result{}
			wg      sync.WaitGroup
		)
		for name, f := range fs {
			wg.Go(func() {
				start := time.Now()
				err := f(ctx)
				mu.Lock()
				results[name] = result{err, time.Since(start)}
				mu.Unlock()
			})
		}
		wg.Wait()
		var slowest time.Duration
		failed := 0
		for name, r := range results {
			slowest = max(slowest, r.elapsed)
			if unavailable(r.err) {
				failed++
			}
			if !ok(r.err) {
				t.Errorf("%s: %s: %v, want %s", phase, name, r.err, what)
			}
			if r.elapsed > bound {
				t.Errorf("%s: %s took %v, more than %v", phase, name, r.elapsed, bound)
			}
		}
		worst = max(worst, slowest)
		t.Logf("%-22s %d calls, %2d unavailable, the slowest took %v", phase+":", len(results), failed, slowest.Round(time.Millisecond))
	}

	expect("up", up, "success")

	p.cut()
	expect("down", unavailable, "ServiceUnavailable")
	p.restore()
	expect("back after down", up, "success")

	p.blackhole()
	expect("partitioned", unavailable, "ServiceUnavailable")
	p.restore()
	expect("back after partition", up, "success")

	// A restart: the server ends every backend of this store (57P01, the code a shutdown
	// sends). Calls that meet a dead connection may fail, as ServiceUnavailable; the next
	// ones succeed.
	pgtest.Exec(t, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1`, app)
	expect("during restart", func(err error) bool { return up(err) || unavailable(err) }, "success or ServiceUnavailable")
	expect("after restart", up, "success")

	if got, err := s.KeyPair(ctx, kp.ARN); err != nil || got.Fingerprint != kp.Fingerprint {
		t.Errorf("after all that: %v, %v", got, err)
	}
	t.Logf("timeout %v: the slowest call took %v", timeout, worst.Round(time.Millisecond))
}

// getOverHTTP calls GetPlaybackKeyPair and turns a 503 into ServiceUnavailable and a 404
// into ResourceNotFound.
func getOverHTTP(ctx context.Context, base string, arn playkey.ARN) error {
	req, err := http.NewRequestWithContext(ctx, "POST", base+"/GetPlaybackKeyPair", strings.NewReader(fmt.Sprintf(`{"arn":%q}`, arn)))
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	code := resp.Header.Get("x-amzn-ErrorType")
	switch {
	case resp.StatusCode == http.StatusOK:
		return nil
	case resp.StatusCode == http.StatusServiceUnavailable && code == playkey.ErrServiceUnavailable,
		resp.StatusCode == http.StatusNotFound && code == playkey.ErrResourceNotFound:
		return playkey.Errorf(code, "HTTP %d", resp.StatusCode)
	}
	return fmt.Errorf("HTTP %d %s", resp.StatusCode, code)
}
