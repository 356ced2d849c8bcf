package main

import (
	"context"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/playkey/playkey/internal/certfile"
	"github.com/playkey/playkey/sigv4"
)

// A reloadable is a part of the process that SIGHUP reads again from its files.
type reloadable struct {
	what   string       // for the log: "tls certificate", "credentials"
	reload func() error // keeps the old state and says why when the new one is bad
}

// reloadOnHangup installs the process's one SIGHUP handler: on each SIGHUP it reloads
// every part, in order, and logs what each did. It must run before the process says it
// is ready, since an unhandled SIGHUP ends it. It stops when ctx ends or stop is called.
func reloadOnHangup(ctx context.Context, logger *slog.Logger, parts []reloadable) (stop func()) {
	ctx, stop = context.WithCancel(ctx)
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	go func() {
		defer signal.Stop(hup)
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
			}
			if len(parts) == 0 {
				logger.Info("SIGHUP: nothing to reload")
				continue
			}
			for _, p := range parts {
				if err := p.reload(); err != nil {
					logger.Error("SIGHUP: reload failed; keeping the previous "+p.what, "err", err)
				}
			}
		}
	}()
	return stop
}

// certReload reloads src, or is nothing when src is nil.
func certReload(logger *slog.Logger, src *certfile.Source) []reloadable {
	if src == nil {
		return nil
	}
	return []reloadable{{what: "tls certificate", reload: func() error {
		leaf, err := src.Reload()
		if err == nil {
			logger.Info("SIGHUP: tls certificate reloaded", certfile.Describe(leaf)...)
		}
		return err
	}}}
}

// credentialsReload reloads the API's credentials file, or is nothing when f is nil.
func credentialsReload(logger *slog.Logger, f *sigv4.CredentialsFile) []reloadable {
	if f == nil {
		return nil
	}
	return []reloadable{{what: "credentials", reload: func() error {
		n, err := f.Reload()
		if err == nil {
			logger.Info("SIGHUP: credentials reloaded", "file", f.Path(), "keys", n)
		}
		return err
	}}}
}
