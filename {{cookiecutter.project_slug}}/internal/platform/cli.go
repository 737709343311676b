package platform

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// Exit codes of the process.
const (
	ExitOK          = 0
	ExitFailed      = 1   // the work failed
	ExitUsage       = 2   // bad flags, arguments or settings
	ExitInterrupted = 130 // a signal cancelled the work (128 + SIGINT), as a shell reports Ctrl-C
)

// RunCLI is main for a command-line tool. `-version` prints VersionLine and exits 0
// before run sees the arguments, so the image's smoke run depends on this package
// alone. Otherwise run does the work with the arguments; SIGINT or SIGTERM cancels
// its context, and a second signal ends the process at once. The process exits
// with run's code.
func RunCLI(run func(ctx context.Context, args []string, stdout, stderr io.Writer) int) {
	os.Exit(runCLI(os.Args[1:], os.Stdout, os.Stderr, run))
}

func runCLI(args []string, stdout, stderr io.Writer, run func(context.Context, []string, io.Writer, io.Writer) int) int {
	if WantsVersion(args) {
		fmt.Fprintln(stdout, VersionLine())
		return ExitOK
	}
	ctx, stop := SignalContext()
	defer stop()
	return run(ctx, args, stdout, stderr)
}

// WantsVersion reports whether the flags ask for -version (or --version), before
// a `--` that ends them.
func WantsVersion(args []string) bool {
	for _, arg := range args {
		switch arg {
		case "--":
			return false
		case "-version", "--version", "-version=true", "--version=true":
			return true
		}
	}
	return false
}

// SignalContext is cancelled by the first SIGINT or SIGTERM. From then on the
// signals get their default behaviour again: a second one ends the process.
func SignalContext() (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(context.Background())
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	go func() {
		select {
		case <-signals:
		case <-ctx.Done():
		}
		signal.Stop(signals)
		cancel()
	}()
	return ctx, cancel
}

// NewFlagSet is a flag set for the tool's own flags, named after it, writing its
// errors and usage to stderr. It lists -version, which RunCLI answers.
func NewFlagSet(stderr io.Writer) *flag.FlagSet {
	flags := flag.NewFlagSet(Name, flag.ContinueOnError)
	flags.SetOutput(stderr)
	flags.Bool("version", false, "print the version and exit")
	return flags
}
