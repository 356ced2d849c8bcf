package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/playkey/playkey"
	"github.com/playkey/playkey/api"
	"github.com/playkey/playkey/console"
	"github.com/playkey/playkey/internal/httppath"
	"github.com/playkey/playkey/sigv4"
)

var serveCommand = &command{
	name:    "serve",
	summary: "run the IVS-compatible API server",
	run:     runServe,
}

// serveConfig is what serve's own flags set.
type serveConfig struct {
	apiAddr     string
	credentials string
	anyKey      bool
	playbackURL string
	// ingestURL and ingestSRTURL say how clients reach ingest, for channels' endpoints.
	ingestURL, ingestSRTURL string
}

func runServe(ctx context.Context, std *stdio, args []string) error {
	var (
		cfg serveConfig
		sf  storeFlags
		lf  logFlags
		gf  gateFlags
		mf  metricsFlags
	)
	fs := newFlagSet(std, "serve", "")
	fs.StringVar(&cfg.apiAddr, "api-addr", "127.0.0.1:8080", "`HOST:PORT` the IVS API listens on (port 0 picks a free port)")
	fs.StringVar(&cfg.credentials, "credentials", "", "AWS shared-credentials `FILE` (aws_access_key_id, aws_secret_access_key, aws_account_id per profile); default: DIR/credentials, created on first run")
	fs.BoolVar(&cfg.anyKey, "insecure-accept-any-key", false, "accept any access key without checking its secret (throwaway CI only); the account is the key id if it is 12 digits")
	fs.StringVar(&cfg.playbackURL, "playback-url", "", "public base `URL` of the playback gate for channels' playbackUrl, e.g. https://play.example.com (default: from --playback-addr)")
	fs.StringVar(&cfg.ingestURL, "ingest-url", "", "`URL` at which broadcasters reach ingest, rtmps://HOST[:PORT] or rtmp://HOST[:1935]: channels' ingestEndpoint becomes HOST for RTMPS on 443 (IVS's form), HOST:PORT for RTMPS on another port, HOST:1935 for RTMP; default: IVS's form, which leads nowhere")
	fs.StringVar(&cfg.ingestSRTURL, "ingest-srt-url", "", "`URL` at which broadcasters reach SRT ingest, srt://HOST[:PORT]: channels' srt.endpoint becomes HOST (HOST:PORT unless the port is 9000); default: IVS's form")
	sf.register(fs)
	lf.register(fs)
	gf.register(fs)
	mf.register(fs, true)
	var inf ingestFlags
	inf.register(fs, "127.0.0.1:1935")
	var hf hookFlags
	hf.register(fs)
	var tf tlsFlags
	tf.register(fs)
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usageErrorf("serve takes no arguments, got %q", rest)
	}
	ingestEndpoint, err := ingestEndpointFlag(cfg.ingestURL)
	if err != nil {
		return err
	}
	srtEndpoint, err := endpointFlag("--ingest-srt-url", cfg.ingestSRTURL, map[string]string{"srt": "9000"})
	if err != nil {
		return err
	}
	logger, err := lf.logger(std)
	if err != nil {
		return err
	}
	cert, err := tf.load(logger)
	if err != nil {
		return err
	}
	inf.cert, gf.cert = cert, cert
	mr, err := mf.start(std, logger)
	if err != nil {
		return err
	}
	defer mr.stop()
	if inf.on() || hf.on() {
		// The gate runs to serve the channels this ingest makes live (ingest.go).
		gf.live = &liveOrigins{}
	}
	gateLn, err := gf.listen()
	if err != nil {
		return err
	}
	playbackAddr := gf.addr
	if gateLn != nil {
		defer gateLn.Close()
		playbackAddr = gateLn.Addr().String() // the port that port 0 picked
	}
	playbackURL, err := playbackBaseURL(playbackAddr, cfg.playbackURL, cert != nil)
	if err != nil {
		return err
	}

	if err := os.MkdirAll(sf.dataDir, 0o700); err != nil {
		return fmt.Errorf("data directory: %w", err)
	}
	store, err := sf.open(ctx, logger)
	if err != nil {
		return err
	}
	defer store.Close()
	store = mr.store(store)
	gf.metrics, gf.metricsChannels = mr, mf.channels
	eng, err := startEngines(std, logger, store, &inf, &hf)
	if err != nil {
		return err
	}
	defer eng.stop()
	ingestRun := eng.ingest
	if ingestRun != nil {
		mr.register(ingestRun.srv)
	}
	if gf.live != nil {
		if ingestRun != nil {
			gf.live.local = ingestRun.srv
		}
		gf.live.store = store
	}

	// Listen before creating credentials: a taken port must not leave credentials behind
	// that were never printed.
	ln, err := net.Listen("tcp", cfg.apiAddr)
	if err != nil {
		return fmt.Errorf("api listener: %w", err)
	}
	defer ln.Close()
	verifier, credFile, creds, err := authFromFlags(std, logger, cfg, sf.dataDir)
	if err != nil {
		return err
	}

	apiCfg := api.Config{Store: store, Auth: api.SigV4(verifier), Logger: logger, PlaybackURL: playbackURL, TokenLeeway: gf.leeway,
		IngestEndpoint: ingestEndpoint, SRTEndpoint: srtEndpoint}
	if ingestRun != nil {
		apiCfg.StreamStopper = ingestAPI{ingestRun.srv}
	}
	apiHandler := api.New(apiCfg)
	mr.register(apiHandler)
	logger.Info("channel playback URLs point at the playback gate", "base", playbackURL)
	// A plain switch rather than a ServeMux: ServeMux redirects paths with empty, "." or ".."
	// segments to their cleaned form, and the API answers every path itself, in AWS's shape.
	health, ready, consoleHandler := healthz(store), readyz(store.Ping), console.Handler()
	root := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		probe := r.Method == http.MethodGet || r.Method == http.MethodHead
		switch {
		case r.URL.Path == "/healthz" && probe:
			health(w, r)
		case r.URL.Path == "/livez" && probe:
			livez(w, r)
		case r.URL.Path == "/readyz" && probe:
			ready(w, r)
		case r.URL.Path == "/console" || strings.HasPrefix(r.URL.Path, console.Prefix) && httppath.IsClean(r.URL.EscapedPath()):
			consoleHandler.ServeHTTP(w, r)
		default:
			apiHandler.ServeHTTP(w, r)
		}
	})

	endpoint := scheme(cert) + "://" + ln.Addr().String()
	if creds != nil {
		printCredentials(std, creds, endpoint)
	}
	gateRun, err := gf.start(ctx, std, logger, store, gateLn)
	if err != nil {
		return err
	}
	defer gateRun.stop()
	if gateLn == nil {
		fmt.Fprintf(std.out, "playkey gate: not running; add --origin TEMPLATE to serve channels' playback URLs (%s/...)\n", playbackURL)
	}
	defer reloadOnHangup(ctx, logger, append(certReload(logger, cert), credentialsReload(logger, credFile)...))()
	fmt.Fprintf(std.out, "playkey console: %s%s\n", endpoint, console.Prefix)
	// Last, so that a script waiting for this line has everything above it.
	fmt.Fprintf(std.out, "playkey API listening on %s\n", endpoint)

	srv := &http.Server{
		Handler:           root,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	if cert != nil {
		srv.TLSConfig = cert.Config()
	}
	return serveUntilDone(ctx, logger, srv, ln)
}

// endpointFlag returns the ingest endpoint a flag's URL names: HOST, or HOST:PORT when
// the port is not IVS's for the scheme (ports maps each allowed scheme to it); "" for "".
func endpointFlag(name, value string, ports map[string]string) (string, error) {
	if value == "" {
		return "", nil
	}
	u, err := url.Parse(value)
	if err != nil {
		u = &url.URL{}
	}
	_, known := ports[u.Scheme]
	if !known || u.Hostname() == "" || u.User != nil || strings.Trim(u.Path, "/") != "" && u.Path != "/app/" && u.Path != "/app" ||
		u.RawQuery != "" || u.Fragment != "" {
		schemes := make([]string, 0, len(ports))
		for s := range ports {
			schemes = append(schemes, s+"://HOST[:PORT]")
		}
		slices.Sort(schemes)
		return "", usageErrorf("%s %q: want %s", name, value, strings.Join(schemes, " or "))
	}
	if u.Port() == "" || u.Port() == ports[u.Scheme] {
		return u.Hostname(), nil
	}
	return u.Host, nil
}

// ingestEndpointFlag returns the ingestEndpoint --ingest-url announces, in the form
// playkey.IngestServerURL reads back to the same URL: HOST for rtmps://HOST[:443] (IVS's
// form), HOST:PORT for RTMPS on another port, HOST:1935 for plain RTMP. Plain RTMP on
// another port, or RTMPS on 1935, cannot be told apart from the endpoint and is refused.
func ingestEndpointFlag(value string) (string, error) {
	endpoint, err := endpointFlag("--ingest-url", value, map[string]string{"rtmps": playkey.RTMPSPort, "rtmp": playkey.RTMPPort})
	if err != nil || value == "" {
		return endpoint, err
	}
	u, _ := url.Parse(value)
	switch {
	case u.Scheme == "rtmp" && u.Port() != "" && u.Port() != playkey.RTMPPort:
		return "", usageErrorf("--ingest-url %q: plain RTMP is announced on port %s only (channels' ingestEndpoint carries no scheme, and clients read any other port as RTMPS); listen on %s or use rtmps://",
			value, playkey.RTMPPort, playkey.RTMPPort)
	case u.Scheme == "rtmps" && u.Port() == playkey.RTMPPort:
		return "", usageErrorf("--ingest-url %q: port %s announces plain RTMP; use another port for RTMPS", value, playkey.RTMPPort)
	case u.Scheme == "rtmp":
		return net.JoinHostPort(u.Hostname(), playkey.RTMPPort), nil
	}
	return endpoint, nil
}

// serveUntilDone serves until ctx ends (SIGINT or SIGTERM), then drains open requests.
// With srv.TLSConfig set it serves HTTPS (HTTP/2 and HTTP/1.1) with that configuration.
func serveUntilDone(ctx context.Context, logger *slog.Logger, srv *http.Server, ln net.Listener) error {
	errc := make(chan error, 1)
	go func() {
		if srv.TLSConfig != nil {
			errc <- srv.ServeTLS(ln, "", "")
			return
		}
		errc <- srv.Serve(ln)
	}()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	logger.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// playbackBaseURL returns the base of channels' playback URLs: --playback-url if set (an
// absolute http or https URL with a host and nothing after the path), else http://HOST:PORT
// of --playback-addr (https:// when the gate serves TLS), with an unspecified host
// (0.0.0.0, ::, empty) read as 127.0.0.1.
func playbackBaseURL(addr, override string, tls bool) (string, error) {
	if override != "" {
		u, err := url.Parse(override)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
			u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" {
			return "", usageErrorf("--playback-url %q: want an http or https URL such as https://play.example.com", override)
		}
		return strings.TrimSuffix(override, "/"), nil
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil || port == "" {
		return "", usageErrorf("--playback-addr %q: want HOST:PORT", addr)
	}
	if port == "0" {
		// Only a running gate picks a port, and without --origin none runs.
		return "", usageErrorf("--playback-addr %q: port 0 needs --origin (the gate then picks the port) or --playback-url", addr)
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	s := "http"
	if tls {
		s = "https"
	}
	return s + "://" + net.JoinHostPort(host, port), nil
}

func healthz(store playkey.Store) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := store.Ping(ctx); err != nil {
			http.Error(w, "store unavailable\n", http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write([]byte("ok\n"))
	}
}

// authFromFlags builds the SigV4 verifier. Without --credentials it uses DIR/credentials,
// creating it with a fresh random key on first run; the created credential is returned so
// that its export lines can be printed once.
func authFromFlags(std *stdio, logger *slog.Logger, cfg serveConfig, dataDir string) (*sigv4.Verifier, *sigv4.CredentialsFile, *sigv4.Credential, error) {
	v := &sigv4.Verifier{Service: "ivs"}
	if cfg.anyKey {
		v.AcceptAnyKey = true
		logger.Warn("INSECURE: --insecure-accept-any-key is on: any access key is accepted without checking its secret; never expose this server")
		fmt.Fprintln(std.err, "playkey: WARNING: --insecure-accept-any-key is on: signatures are not checked against any secret")
		return v, nil, nil, nil
	}
	path := cfg.credentials
	var created *sigv4.Credential
	if path == "" {
		path = filepath.Join(dataDir, "credentials")
		if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
			c, err := sigv4.CreateCredentialsFile(path)
			if err != nil {
				return nil, nil, nil, fmt.Errorf("create credentials: %w", err)
			}
			created = &c
		}
	}
	creds, err := sigv4.OpenCredentialsFile(path)
	if err != nil {
		return nil, nil, nil, err
	}
	v.Lookup = creds.Lookup
	logger.Info("credentials loaded", "file", path, "keys", creds.Len())
	return v, creds, created, nil
}

func printCredentials(std *stdio, c *sigv4.Credential, endpoint string) {
	fmt.Fprintf(std.out, "Created credentials for account %s; use them with the AWS CLI or SDKs:\n\n", c.Account)
	fmt.Fprintf(std.out, "  export AWS_ACCESS_KEY_ID=%s\n", c.AccessKeyID)
	fmt.Fprintf(std.out, "  export AWS_SECRET_ACCESS_KEY=%s\n", c.SecretAccessKey)
	// AWS_REGION is what the SDKs and AWS CLI v2 read; AWS CLI v1 reads only AWS_DEFAULT_REGION.
	fmt.Fprintf(std.out, "  export AWS_REGION=us-west-2\n")
	fmt.Fprintf(std.out, "  export AWS_DEFAULT_REGION=us-west-2\n\n")
	fmt.Fprintf(std.out, "  aws ivs list-playback-key-pairs --endpoint-url %s\n\n", endpoint)
	fmt.Fprintln(std.out, "They are kept in the credentials file of the data directory and not printed again.")
}
