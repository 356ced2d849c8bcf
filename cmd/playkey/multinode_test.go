package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ivs"
	"github.com/aws/smithy-go"
	"github.com/jackc/pgx/v5"

	"github.com/playkey/playkey"
	"github.com/playkey/playkey/postgres/pgtest"
	"github.com/playkey/playkey/token"
)

// These tests run several real `playkey serve` processes on one PostgreSQL schema, as a
// deployment with several nodes behind a load balancer would, and drive them with the AWS
// SDK for Go v2.

// testCred is one profile of the credentials file every API node shares.
type testCred struct {
	profile, accessKey, secret, account string
}

// writeCredentials writes a shared-credentials file with one profile per account and
// returns its path and the credentials, in the order of accounts.
func writeCredentials(t *testing.T, dir string, accounts ...string) (string, []testCred) {
	t.Helper()
	var creds []testCred
	content := ""
	for i, acct := range accounts {
		c := testCred{
			profile:   fmt.Sprint("p", i),
			accessKey: fmt.Sprintf("AKIAPLAYKEYNODES%04d", i),
			secret:    rand.Text(),
			account:   acct,
		}
		creds = append(creds, c)
		content += fmt.Sprintf("[%s]\naws_access_key_id = %s\naws_secret_access_key = %s\naws_account_id = %s\n\n",
			c.profile, c.accessKey, c.secret, c.account)
	}
	path := filepath.Join(dir, "credentials")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path, creds
}

// ivsClient is the AWS SDK's IVS client for one node, credential and region. It does not
// retry, so that every answer the server gives is seen; hc may be nil.
func ivsClient(endpoint string, c testCred, region string, hc aws.HTTPClient) *ivs.Client {
	o := ivs.Options{
		Region:           region,
		BaseEndpoint:     aws.String(endpoint),
		Credentials:      credentials.NewStaticCredentialsProvider(c.accessKey, c.secret, ""),
		RetryMaxAttempts: 1,
	}
	if hc != nil {
		o.HTTPClient = hc
	}
	return ivs.New(o)
}

// newPublicKeyPEMs makes n P-384 public keys in the PEM form `openssl ec -pubout` writes.
func newPublicKeyPEMs(t *testing.T, n int) []string {
	t.Helper()
	var out []string
	for range n {
		k, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		der, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})))
	}
	return out
}

// apiCode returns the AWS error code of an SDK error, or "" when err is not an API error.
func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// startNodes starts n `playkey serve` processes on one store with one credentials file.
func startNodes(t *testing.T, n int, storeURL, credFile string, extra ...string) []*server {
	t.Helper()
	dir := t.TempDir()
	nodes := make([]*server, n)
	for i := range nodes {
		args := append([]string{"--credentials", credFile, "--store", storeURL}, extra...)
		nodes[i] = startServer(t, filepath.Join(dir, fmt.Sprint("node", i)), args...)
	}
	return nodes
}

// TestNodesKeyPairQuotaAndDuplicates runs three API nodes on one PostgreSQL schema and
// hammers them at once, through the AWS SDK, with imports of a small pool of keys and
// deletes, in four account-region scopes. Three observers look for the two invariants
// being broken at any moment: more than 3 key pairs in a scope, and one public key
// (fingerprint) twice in a scope. One reads the table in a loop on its own connection,
// one checks the scope after every successful import, and one lists every scope through
// the nodes in turn. All three must count zero.
func TestNodesKeyPairQuotaAndDuplicates(t *testing.T) {
	const (
		nodeCount = 3
		workers   = 12
		budget    = 45 * time.Second // the attempts stop here if not done before, once there are enough
	)
	attempts, enough := 6000, int64(2000)
	if testing.Short() {
		attempts, enough = 600, 0
	}
	schema, storeURL := pgtest.Schema(t)
	dir := t.TempDir()
	credFile, creds := writeCredentials(t, dir, "111111111111", "222222222222")
	nodes := startNodes(t, nodeCount, storeURL, credFile)

	type scope struct {
		cred   testCred
		region string
	}
	var scopes []scope
	for _, c := range creds {
		for _, r := range []string{"us-west-2", "eu-central-1"} {
			scopes = append(scopes, scope{c, r})
		}
	}
	// Five keys for three slots per scope: imports collide with each other and with the quota.
	keys := make([][]string, len(scopes))
	clients := make([][]*ivs.Client, len(scopes)) // [scope][node]
	for i, sc := range scopes {
		keys[i] = newPublicKeyPEMs(t, 5)
		for _, n := range nodes {
			clients[i] = append(clients[i], ivsClient(n.endpoint, sc.cred, sc.region, nil))
		}
	}

	ctx := context.Background()
	sqlConn := func() *pgx.Conn {
		c, err := pgx.Connect(ctx, storeURL)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close(context.Background()) })
		return c
	}
	var (
		overQuota, duplicates, checks atomic.Int64
		violationsMu                  sync.Mutex
		violations                    []string
	)
	check := func(who string, rows, distinct int) {
		checks.Add(1)
		if rows > playkey.MaxKeyPairs {
			overQuota.Add(1)
		}
		if rows != distinct {
			duplicates.Add(1)
		}
		if rows > playkey.MaxKeyPairs || rows != distinct {
			violationsMu.Lock()
			if len(violations) < 10 {
				violations = append(violations, fmt.Sprintf("%s saw %d key pairs, %d distinct fingerprints", who, rows, distinct))
			}
			violationsMu.Unlock()
		}
	}

	stop := make(chan struct{})
	stopped := func() bool {
		select {
		case <-stop:
			return true
		default:
			return false
		}
	}
	var observers sync.WaitGroup
	var sqlPasses, listPasses atomic.Int64
	// The SQL observer: the whole table, grouped by scope, in a loop.
	obs := sqlConn()
	observers.Go(func() {
		for !stopped() {
			rows, err := obs.Query(ctx,
				`SELECT count(*), count(DISTINCT fingerprint) FROM playback_key_pairs GROUP BY account, region`)
			if err != nil {
				t.Errorf("sql observer: %v", err)
				return
			}
			for rows.Next() {
				var n, d int
				if err := rows.Scan(&n, &d); err != nil {
					t.Errorf("sql observer: %v", err)
					return
				}
				check("the SQL observer", n, d)
			}
			rows.Close()
			sqlPasses.Add(1)
		}
	})
	// The API observer: ListPlaybackKeyPairs of every scope, on each node in turn.
	observers.Go(func() {
		for i := 0; !stopped(); i++ {
			for s := range scopes {
				out, err := clients[s][i%nodeCount].ListPlaybackKeyPairs(ctx, &ivs.ListPlaybackKeyPairsInput{MaxResults: aws.Int32(100)})
				if err != nil {
					t.Errorf("list observer: %v", err)
					return
				}
				fps := map[string]bool{}
				for _, kp := range out.KeyPairs {
					// The summary has no fingerprint: get it (from the same node).
					got, err := clients[s][i%nodeCount].GetPlaybackKeyPair(ctx, &ivs.GetPlaybackKeyPairInput{Arn: kp.Arn})
					if apiCode(err) == playkey.ErrResourceNotFound {
						fps[aws.ToString(kp.Arn)] = true // deleted since the listing: still a distinct key
						continue
					}
					if err != nil {
						t.Errorf("list observer: get: %v", err)
						return
					}
					fps[aws.ToString(got.KeyPair.Fingerprint)] = true
				}
				check(fmt.Sprintf("ListPlaybackKeyPairs on node %d", i%nodeCount), len(out.KeyPairs), len(fps))
			}
			listPasses.Add(1)
		}
	})

	// The after-import check: the imported key's scope, read at once on its own connection.
	after := sqlConn()
	var afterMu sync.Mutex
	countScope := func(account, region string) (int, int, error) {
		afterMu.Lock()
		defer afterMu.Unlock()
		var n, d int
		err := after.QueryRow(ctx,
			`SELECT count(*), count(DISTINCT fingerprint) FROM playback_key_pairs WHERE account = $1 AND region = $2`,
			account, region).Scan(&n, &d)
		return n, d, err
	}

	var (
		next                                          atomic.Int64
		imported, conflicts, quota, deleted, notFound atomic.Int64
		emptyLists                                    atomic.Int64
		perNode                                       [nodeCount]atomic.Int64
	)
	deadline := time.Now().Add(budget)
	start := time.Now()
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			// A loaded machine makes fewer calls within the budget: the test goes on past it
			// until it has made enough to prove something, rather than fail for being slow.
			for next.Add(1) <= int64(attempts) && (time.Now().Before(deadline) ||
				imported.Load()+conflicts.Load()+quota.Load()+deleted.Load()+notFound.Load() < enough) {
				s, n := mrand.IntN(len(scopes)), mrand.IntN(nodeCount)
				c := clients[s][n]
				perNode[n].Add(1)
				if mrand.IntN(3) == 0 {
					// Delete what some node lists; the other workers race for the same.
					out, err := clients[s][mrand.IntN(nodeCount)].ListPlaybackKeyPairs(ctx, &ivs.ListPlaybackKeyPairsInput{})
					if err != nil {
						t.Errorf("list: %v", err)
						return
					}
					if len(out.KeyPairs) == 0 {
						emptyLists.Add(1)
						continue
					}
					_, err = c.DeletePlaybackKeyPair(ctx, &ivs.DeletePlaybackKeyPairInput{Arn: out.KeyPairs[mrand.IntN(len(out.KeyPairs))].Arn})
					switch code := apiCode(err); {
					case err == nil:
						deleted.Add(1)
					case code == playkey.ErrResourceNotFound:
						notFound.Add(1)
					default:
						t.Errorf("delete on node %d: %v", n, err)
						return
					}
					continue
				}
				_, err := c.ImportPlaybackKeyPair(ctx, &ivs.ImportPlaybackKeyPairInput{
					PublicKeyMaterial: aws.String(keys[s][mrand.IntN(len(keys[s]))]),
				})
				switch code := apiCode(err); {
				case err == nil:
					imported.Add(1)
					rows, distinct, err := countScope(scopes[s].cred.account, scopes[s].region)
					if err != nil {
						t.Errorf("count: %v", err)
						return
					}
					check("the check after an import", rows, distinct)
				case code == playkey.ErrConflict:
					conflicts.Add(1)
				case code == playkey.ErrServiceQuotaExceeded:
					quota.Add(1)
				default:
					t.Errorf("import on node %d: %v", n, err)
					return
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	close(stop)
	observers.Wait()

	left := 0
	for _, sc := range scopes {
		rows, distinct, err := countScope(sc.cred.account, sc.region)
		if err != nil {
			t.Fatal(err)
		}
		check("the final count", rows, distinct)
		left += rows
	}
	done := imported.Load() + conflicts.Load() + quota.Load() + deleted.Load() + notFound.Load()
	t.Logf("schema %s: %d attempts (%d found nothing to delete) on %d nodes (%d/%d/%d) in %v (%d workers): %d imported, %d ConflictException, %d ServiceQuotaExceededException, %d deleted, %d already deleted (404)",
		schema, done+emptyLists.Load(), emptyLists.Load(), nodeCount, perNode[0].Load(), perNode[1].Load(), perNode[2].Load(), elapsed.Round(time.Millisecond), workers,
		imported.Load(), conflicts.Load(), quota.Load(), deleted.Load(), notFound.Load())
	t.Logf("%d checks (%d SQL observer passes, %d list passes): %d over quota, %d duplicate keys",
		checks.Load(), sqlPasses.Load(), listPasses.Load(), overQuota.Load(), duplicates.Load())
	for _, v := range violations {
		t.Error(v)
	}
	if v := overQuota.Load(); v != 0 {
		t.Errorf("%d of %d checks saw more than %d key pairs in a scope", v, checks.Load(), playkey.MaxKeyPairs)
	}
	if v := duplicates.Load(); v != 0 {
		t.Errorf("%d of %d checks saw one public key twice in a scope", v, checks.Load())
	}
	if i, d := imported.Load(), deleted.Load(); i-d != int64(left) {
		t.Errorf("%d imported - %d deleted != %d left", i, d, left)
	}
	if done < enough {
		t.Errorf("only %d imports and deletes of %d attempts: too few to prove much", done, attempts)
	}
	for name, n := range map[string]int64{"imported": imported.Load(), "ConflictException": conflicts.Load(),
		"ServiceQuotaExceededException": quota.Load(), "deleted": deleted.Load()} {
		if n == 0 {
			t.Errorf("no request ended %s", name)
		}
	}

	// The nodes share the secret that protects pagination tokens (through the store): a
	// listing started on one node goes on on the others.
	s0 := clients[0]
	if out, err := s0[0].ListPlaybackKeyPairs(ctx, &ivs.ListPlaybackKeyPairsInput{}); err != nil {
		t.Fatal(err)
	} else {
		for _, kp := range out.KeyPairs {
			if _, err := s0[0].DeletePlaybackKeyPair(ctx, &ivs.DeletePlaybackKeyPairInput{Arn: kp.Arn}); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, k := range keys[0][:3] {
		if _, err := s0[0].ImportPlaybackKeyPair(ctx, &ivs.ImportPlaybackKeyPairInput{PublicKeyMaterial: aws.String(k)}); err != nil {
			t.Fatal(err)
		}
	}
	var listed int
	var token *string
	for page := 0; ; page++ {
		out, err := s0[page%nodeCount].ListPlaybackKeyPairs(ctx, &ivs.ListPlaybackKeyPairsInput{MaxResults: aws.Int32(1), NextToken: token})
		if err != nil {
			t.Fatalf("page %d, on node %d with the token of node %d: %v", page, page%nodeCount, (page+nodeCount-1)%nodeCount, err)
		}
		listed += len(out.KeyPairs)
		if token = out.NextToken; token == nil {
			break
		}
	}
	if listed != 3 {
		t.Errorf("listing one key pair a page across the nodes found %d, want 3", listed)
	}

	for _, n := range nodes {
		if logs := n.Stderr.String(); status5xx.MatchString(logs) {
			t.Errorf("a node answered 5xx:\n%s", status5xx.FindAllString(logs, 5))
		}
	}
}

// status5xx finds a request log line that answered a server error.
var status5xx = regexp.MustCompile(`status=5\d\d`)

// TestStoreSelection: --store with a postgres:// or postgresql:// URL puts serve's and the
// gate's state in PostgreSQL; any other value, or none, keeps the embedded SQLite
// database in --data. Each store is shown to be the one used by what lands in it and by
// a gate that can only play a channel whose key and channel it reads from that store.
func TestStoreSelection(t *testing.T) {
	t.Parallel()
	schema, storeURL := pgtest.Schema(t)
	ctx := context.Background()
	dir := t.TempDir()
	credFile, creds := writeCredentials(t, dir, "123456789012")
	origin := hlsOrigin(t)
	db, err := pgx.Connect(ctx, storeURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close(context.Background())
	pgKeyPairs := func() int {
		t.Helper()
		var n int
		if err := db.QueryRow(ctx, `SELECT count(*) FROM playback_key_pairs`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}

	// playsThroughGate imports a key and creates a private channel through the API node,
	// then starts a gate with gateArgs and requires it to play a token of that key.
	playsThroughGate := func(t *testing.T, api *server, gateArgs ...string) {
		t.Helper()
		c := ivsClient(api.endpoint, creds[0], "us-west-2", nil)
		k := newPlayKey(t)
		if _, err := c.ImportPlaybackKeyPair(ctx, &ivs.ImportPlaybackKeyPairInput{PublicKeyMaterial: aws.String(k.pem)}); err != nil {
			t.Fatal(err)
		}
		ch, err := c.CreateChannel(ctx, &ivs.CreateChannelInput{Authorized: true})
		if err != nil {
			t.Fatal(err)
		}
		g := startGate(t, append([]string{"--origin", origin}, gateArgs...)...)
		m := &multiGate{api: c, gates: []*gateNode{g}, http: &http.Client{Timeout: 30 * time.Second}}
		m.allPlay(t, aws.ToString(ch.Channel.PlaybackUrl), k.sign(t, token.Claims{ChannelARN: aws.ToString(ch.Channel.Arn)}))
	}

	for i, prefix := range []string{"postgres://", "postgresql://"} {
		t.Run(prefix, func(t *testing.T) {
			u := prefix + strings.TrimPrefix(storeURL, "postgres://")
			data := filepath.Join(dir, fmt.Sprint("pg", i))
			api := startServer(t, data, "--credentials", credFile, "--store", u)
			// The gate's own --data is an empty directory: only PostgreSQL holds the key.
			playsThroughGate(t, api, "--store", u)
			if n := pgKeyPairs(); n != i+1 {
				t.Errorf("schema %s holds %d key pairs, want %d", schema, n, i+1)
			}
			if _, err := os.Stat(filepath.Join(data, "playkey.db")); err == nil {
				t.Errorf("serve --store %s... made an embedded database in --data", prefix)
			}
		})
	}
	for i, other := range []string{"", "mysql://127.0.0.1/playkey", "sqlite:playkey.db", "Postgres"} {
		t.Run(fmt.Sprintf("%q", other), func(t *testing.T) {
			data := filepath.Join(dir, fmt.Sprint("other", i))
			before := pgKeyPairs()
			api := startServer(t, data, "--credentials", credFile, "--store", other)
			// The gate reads the embedded database serve wrote in data, and only that.
			playsThroughGate(t, api, "--store", other, "--data", data)
			if _, err := os.Stat(filepath.Join(data, "playkey.db")); err != nil {
				t.Errorf("serve --store %q: no embedded database in --data: %v", other, err)
			}
			if n := pgKeyPairs(); n != before {
				t.Errorf("serve --store %q put a key pair in PostgreSQL", other)
			}
		})
	}
}
