// Command playkey is a self-hosted, API-compatible implementation of Amazon IVS playback
// security: playback key pairs, playback authorization tokens, and the tools around them.
//
// main only prints and exits; every command is a function of its arguments and streams so
// that tests run the real program in-process.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], &stdio{in: os.Stdin, out: os.Stdout, err: os.Stderr})
	stop()
	os.Exit(code)
}

// stdio is what a command reads and prints.
type stdio struct {
	in       io.Reader
	out, err io.Writer
}

// A command is one verb of the CLI. run returns nil for exit status 0, an *exitError to choose
// another status, and any other error for status 1 with the error printed.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, std *stdio, args []string) error
}

// commands is the CLI's static verb table.
func commands() []*command {
	return []*command{serveCommand, keygenCommand, keysCommand, channelsCommand, tokenCommand, migrateCommand, gateCommand, ingestCommand, benchCommand}
}

// exitError ends the program with a status and, if msg is set, prints it.
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return e.msg }

// usageErrorf reports a mistake in the command line (exit status 2).
func usageErrorf(format string, args ...any) error {
	return &exitError{code: 2, msg: fmt.Sprintf(format, args...)}
}

func run(ctx context.Context, args []string, std *stdio) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		printUsage(std.err)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return exitStatus(std, c.run(ctx, std, args[1:]))
		}
	}
	fmt.Fprintf(std.err, "playkey: unknown command %q\n\n", args[0])
	printUsage(std.err)
	return 2
}

func exitStatus(std *stdio, err error) int {
	if err == nil {
		return 0
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.msg != "" {
			fmt.Fprintln(std.err, "playkey:", ee.msg)
		}
		return ee.code
	}
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	fmt.Fprintln(std.err, "playkey:", err)
	return 1
}

func printUsage(w io.Writer) {
	fmt.Fprintln(w, "usage: playkey <command> [arguments]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "commands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Run 'playkey <command> -h' for a command's flags.")
}

// subcommands dispatches to a group of verbs such as "keys list".
func subcommands(ctx context.Context, std *stdio, group string, args []string, verbs []*command) error {
	usage := func() {
		fmt.Fprintf(std.err, "usage: playkey %s <verb> [arguments]\n\nverbs:\n", group)
		for _, v := range verbs {
			fmt.Fprintf(std.err, "  %-8s %s\n", v.name, v.summary)
		}
	}
	if len(args) == 0 {
		usage()
		return &exitError{code: 2}
	}
	if args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage()
		return nil
	}
	for _, v := range verbs {
		if v.name == args[0] {
			return v.run(ctx, std, args[1:])
		}
	}
	usage()
	return usageErrorf("unknown %s verb %q", group, args[0])
}

// newFlagSet returns a flag set that prints its usage to std.err and reports errors rather
// than exiting.
func newFlagSet(std *stdio, name, argsUsage string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(std.err)
	fs.Usage = func() {
		fmt.Fprintf(std.err, "usage: playkey %s [flags] %s\n\nflags:\n", name, argsUsage)
		fs.PrintDefaults()
		fmt.Fprintf(std.err, "\nEvery flag can also be set in the environment as %s followed by its name in upper case\nwith - as _ (--log-level: %s); a flag on the command line beats the environment.\n", envPrefix, envName("log-level"))
	}
	return fs
}

// envPrefix starts the environment variable of every flag (see envName).
const envPrefix = "PLAYKEY_"

// envName is the environment variable that sets the flag named name: PLAYKEY_ and the name
// in upper case with - as _, the same for every command, so that one environment file
// serves serve, gate and the client commands alike.
func envName(name string) string {
	return envPrefix + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

// setFromEnvironment sets each flag the command line left unset from its environment
// variable, if that is set, even to empty (PLAYKEY_INGEST_ADDR= turns ingest off as
// --ingest-addr= does; environment files have no other way to say it). Applied after parsing so that the command line
// wins, also for repeatable flags, which would otherwise collect both.
func setFromEnvironment(fs *flag.FlagSet) error {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if set[f.Name] || err != nil {
			return
		}
		v, ok := os.LookupEnv(envName(f.Name))
		if !ok {
			return
		}
		if serr := fs.Set(f.Name, v); serr != nil {
			err = usageErrorf("%s=%q (for --%s): %v", envName(f.Name), v, f.Name, serr)
		}
	})
	return err
}

// parseFlags parses args, allowing flags before, between and after positional arguments
// (the standard flag package stops at the first positional one), then takes the flags left
// unset from the environment (setFromEnvironment), and returns the positional arguments. A
// bad flag is a usage error (exit status 2).
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, &exitError{code: 2}
		}
		args = fs.Args()
		if len(args) == 0 {
			return positional, setFromEnvironment(fs)
		}
		if args[0] == "--" {
			return append(positional, args[1:]...), setFromEnvironment(fs)
		}
		positional = append(positional, args[0])
		args = args[1:]
	}
}

// stringList is a repeatable string flag.
type stringList []string

func (s *stringList) String() string     { return fmt.Sprint(*s) }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }
