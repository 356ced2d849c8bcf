package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/playkey/playkey"
	"github.com/playkey/playkey/internal/certfile"
	"github.com/playkey/playkey/postgres"
	"github.com/playkey/playkey/sqlite"
)

// Flag groups that several commands share, each declared once. The playback gate's are
// gateFlags (gate.go), the API client's apiFlags (client.go).

// storeFlags say where state lives: serve's and gate's.
type storeFlags struct {
	dataDir  string
	storeURL string
}

func (f *storeFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.dataDir, "data", "./playkey-data", "`DIR` holding the embedded database (serve also keeps its generated credentials there)")
	fs.StringVar(&f.storeURL, "store", "", "where state lives: a postgres:// or postgresql:// `URL` for PostgreSQL; empty (or anything else) for the embedded SQLite database in --data")
}

// open opens PostgreSQL for a postgres:// or postgresql:// --store, else the embedded
// SQLite database in the data directory, and logs which (a mistyped URL would otherwise
// pass unnoticed).
func (f *storeFlags) open(ctx context.Context, logger *slog.Logger) (playkey.Store, error) {
	if strings.HasPrefix(f.storeURL, "postgres://") || strings.HasPrefix(f.storeURL, "postgresql://") {
		s, err := postgres.Open(ctx, f.storeURL)
		if err != nil {
			return nil, fmt.Errorf("open store: %w", err)
		}
		logger.Info("store opened", "kind", "postgres", "schema", s.Schema())
		return s, nil
	}
	path := filepath.Join(f.dataDir, "playkey.db")
	if f.storeURL != "" {
		logger.Warn("--store is not a postgres:// or postgresql:// URL; using the embedded SQLite database", "path", path)
	}
	if err := securePrivateDir(logger, f.dataDir); err != nil {
		return nil, err
	}
	s, err := sqlite.Open(ctx, path)
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	// Again, for the WAL files that opening created.
	if err := securePrivateDir(logger, f.dataDir); err != nil {
		s.Close()
		return nil, err
	}
	logger.Info("store opened", "kind", "sqlite", "path", path)
	return s, nil
}

// logFlags choose the log's format and level: serve's and gate's.
type logFlags struct {
	format string
	level  string
}

func (f *logFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.format, "log-format", "text", "log format: text or json")
	fs.StringVar(&f.level, "log-level", "info", "log level: debug, info, warn or error")
}

// logger returns the logger the flags ask for, writing to standard error.
func (f *logFlags) logger(std *stdio) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(f.level)); err != nil {
		return nil, usageErrorf("--log-level %q: want debug, info, warn or error", f.level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch f.format {
	case "text":
		return slog.New(slog.NewTextHandler(std.err, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(std.err, opts)), nil
	}
	return nil, usageErrorf("--log-format %q: want text or json", f.format)
}

// tlsFlags are --tls-cert and --tls-key: one certificate for every TLS listener of the
// process (serve's API and gate, gate's, ingest's RTMPS), read again on SIGHUP.
type tlsFlags struct {
	cert, key string
}

func (f *tlsFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.cert, "tls-cert", "", "certificate chain `FILE` (PEM) for every TLS listener: with it the API and the playback gate serve HTTPS (channels' playbackUrl becomes https), and RTMPS ingest uses it; read again on SIGHUP")
	fs.StringVar(&f.key, "tls-key", "", "private key `FILE` (PEM) of --tls-cert; read again on SIGHUP")
}

// load reads the certificate, or returns nil when neither flag is set.
func (f *tlsFlags) load(logger *slog.Logger) (*certfile.Source, error) {
	if f.cert == "" && f.key == "" {
		return nil, nil
	}
	if f.cert == "" || f.key == "" {
		return nil, usageErrorf("--tls-cert and --tls-key go together")
	}
	src, err := certfile.Load(f.cert, f.key)
	if err != nil {
		return nil, fmt.Errorf("tls: %w", err)
	}
	logger.Info("tls certificate loaded", certfile.Describe(src.Leaf())...)
	return src, nil
}

// beside is what `gate` and `ingest` set up alike, as processes beside the store that
// `serve` writes: the logger, the certificate (reloaded on SIGHUP), the metrics listener,
// and the store (measured when metrics are on). close undoes it, last first.
type beside struct {
	logger  *slog.Logger
	cert    *certfile.Source
	metrics *runningMetrics
	store   playkey.Store
	undo    []func()
}

// startBeside sets up the process named what ("the gate", "ingest") from its flags.
func startBeside(ctx context.Context, std *stdio, what string, sf *storeFlags, lf *logFlags, tf *tlsFlags, mf *metricsFlags) (_ *beside, err error) {
	b := &beside{}
	defer func() {
		if err != nil {
			b.close()
		}
	}()
	if b.logger, err = lf.logger(std); err != nil {
		return nil, err
	}
	if b.cert, err = tf.load(b.logger); err != nil {
		return nil, err
	}
	b.undo = append(b.undo, reloadOnHangup(ctx, b.logger, certReload(b.logger, b.cert)))
	if sf.storeURL == "" {
		if _, err := os.Stat(sf.dataDir); err != nil {
			return nil, fmt.Errorf("data directory: %w (%s reads the store that serve writes)", err, what)
		}
	}
	if b.metrics, err = mf.start(std, b.logger); err != nil {
		return nil, err
	}
	b.undo = append(b.undo, b.metrics.stop)
	store, err := sf.open(ctx, b.logger)
	if err != nil {
		return nil, err
	}
	b.undo = append(b.undo, func() { store.Close() })
	b.store = b.metrics.store(store)
	return b, nil
}

func (b *beside) close() {
	for i := len(b.undo) - 1; i >= 0; i-- {
		b.undo[i]()
	}
}
