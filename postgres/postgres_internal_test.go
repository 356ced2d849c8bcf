package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/playkey/playkey"
)

func TestTakeTimeout(t *testing.T) {
	for _, c := range []struct {
		in, out string
		d       time.Duration
	}{
		{"postgres://h/db", "postgres://h/db", DefaultTimeout},
		{"postgres://h/db?sslmode=disable", "postgres://h/db?sslmode=disable", DefaultTimeout},
		{"postgres://h/db?playkey_timeout=2s", "postgres://h/db", 2 * time.Second},
		{"postgres://h/db?search_path=x&playkey_timeout=250ms", "postgres://h/db?search_path=x", 250 * time.Millisecond},
		// Several hosts, which net/url rejects, pass through untouched.
		{"postgres://a:5432,b:5433/db?playkey_timeout=1m&target_session_attrs=read-write",
			"postgres://a:5432,b:5433/db?target_session_attrs=read-write", time.Minute},
	} {
		out, d, err := takeTimeout(c.in)
		if err != nil || out != c.out || d != c.d {
			t.Errorf("takeTimeout(%q) = %q, %v, %v; want %q, %v", c.in, out, d, err, c.out, c.d)
		}
	}
	for _, in := range []string{"postgres://h/db?playkey_timeout=", "postgres://h/db?playkey_timeout=0s",
		"postgres://h/db?playkey_timeout=5", "postgres://h/db?playkey_timeout=-1s", "postgres://h/db?%zz"} {
		if _, _, err := takeTimeout(in); err == nil {
			t.Errorf("takeTimeout(%q) accepted it", in)
		}
	}
}

func TestUnreachable(t *testing.T) {
	opErr := &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	for _, c := range []struct {
		err  error
		want bool
	}{
		{&pgconn.PgError{Code: "57P01"}, true},
		{&pgconn.PgError{Code: "57P02"}, true},
		{&pgconn.PgError{Code: "57P03"}, true},
		{&pgconn.PgError{Code: "08006"}, true},
		{&pgconn.PgError{Code: "08001"}, true},
		{&pgconn.PgError{Code: "53300"}, true},
		{fmt.Errorf("wrapped: %w", &pgconn.PgError{Code: "08003"}), true},
		{opErr, true},
		{fmt.Errorf("x: %w", syscall.ECONNRESET), true},
		{io.ErrUnexpectedEOF, true},
		{context.DeadlineExceeded, true},
		{pgconn.ErrConnClosed, true},

		{&pgconn.PgError{Code: "23505"}, false}, // unique violation
		{&pgconn.PgError{Code: "28P01"}, false}, // bad password: waiting will not fix it
		{&pgconn.PgError{Code: "42P01"}, false}, // no such table
		{&pgconn.PgError{Code: "40001"}, false},
		{errors.New("closed pool"), false},
		{context.Canceled, false},
	} {
		if got := unreachable(c.err); got != c.want {
			t.Errorf("unreachable(%v) = %v, want %v", c.err, got, c.want)
		}
	}
}

func TestDoErrors(t *testing.T) {
	s := &Store{timeout: 50 * time.Millisecond}
	bg := context.Background()

	// A *playkey.Error and a change function's own error pass unchanged.
	nf := playkey.Errorf(playkey.ErrResourceNotFound, "x")
	if err := s.do(bg, "op", func(context.Context) error { return nf }); err != nf {
		t.Errorf("do returned %v, want the *playkey.Error itself", err)
	}
	mine := errors.New("mine")
	if err := s.do(bg, "op", func(context.Context) error { return asIs{mine} }); err != mine {
		t.Errorf("do returned %v, want the change function's error itself", err)
	}

	// The store's own timeout is ServiceUnavailable; the caller's is the caller's.
	err := s.do(bg, "op", func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() })
	if !playkey.IsCode(err, playkey.ErrServiceUnavailable) {
		t.Errorf("after the store's timeout: %v", err)
	}
	ctx, cancel := context.WithTimeout(bg, 10*time.Millisecond)
	defer cancel()
	err = s.do(ctx, "op", func(ctx context.Context) error { <-ctx.Done(); return errors.New("driver's view") })
	if !errors.Is(err, context.DeadlineExceeded) || playkey.IsCode(err, playkey.ErrServiceUnavailable) {
		t.Errorf("after the caller's deadline: %v", err)
	}

	// Unavailable keeps the cause for the log, and the client's message says nothing of it.
	err = s.do(bg, "get key pair", func(context.Context) error { return &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED} })
	var pe *playkey.Error
	if !errors.As(err, &pe) || pe.Code != playkey.ErrServiceUnavailable || pe.Message != "the database is unavailable; try again" {
		t.Errorf("unreachable: %v", err)
	}
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("unreachable: %v does not wrap its cause", err)
	}

	// Anything else is internal.
	err = s.do(bg, "op", func(context.Context) error { return &pgconn.PgError{Code: "42P01"} })
	if errors.As(err, &pe) {
		t.Errorf("a bad query: %v, want an internal error", err)
	}
}

func TestMigrationFiles(t *testing.T) {
	ms, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) == 0 {
		t.Fatal("no migrations embedded")
	}
}
