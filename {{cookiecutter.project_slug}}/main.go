{% set c = cookiecutter %}
{% if c.app_kind == "http" %}
// Command {{ c.project_slug }} is an HTTP service: {{ c.description }}.
//
// This file and its tests are yours: add your routes and handlers here. The
// server around them (settings, the drain on SIGTERM, the access log, /healthz
// and /readyz, -version and -healthcheck) is internal/platform, which the
// template owns and `copier update` keeps current.
package main

import (
	"net/http"

	"{{ c.module_path }}/internal/platform"
)

func main() {
	platform.Main(routes())
}

// routes is the service's own HTTP surface. Every request also goes through the
// platform's middleware (request ID, access log, panic recovery, body limit).
func routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", hello)
	return mux
}

// hello answers with a greeting. net/http gives it Content-Type text/plain from
// its first bytes; set Content-Type yourself for other bodies, such as JSON.
func hello(w http.ResponseWriter, r *http.Request) {
	w.Write([]byte("Hello from {{ c.project_slug }}\n"))
}
{% else %}
// Command {{ c.project_slug }} is a command-line tool: {{ c.description }}.
// This file and its tests are yours; internal/platform (the template's) handles
// -version, the signals (they cancel run's context) and the exit codes.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"time"

	"{{ c.module_path }}/internal/platform"
)

func main() { platform.RunCLI(run) }

// run is the whole program apart from the process; its work stops when ctx is done.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	flags := platform.NewFlagSet(stderr)
	name := flags.String("name", "world", "who to greet")
	wait := flags.Duration("wait", 0, "wait this long before greeting (work that Ctrl-C cancels)")
	verbose := flags.Bool("v", false, "log debug messages to stderr")
	if err := flags.Parse(args); err != nil || flags.NArg() > 0 {
		if errors.Is(err, flag.ErrHelp) {
			return platform.ExitOK
		} else if err == nil {
			fmt.Fprintf(stderr, "unexpected arguments: %q\n", flags.Args())
			flags.Usage()
		}
		return platform.ExitUsage
	}
	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	logger.Debug("greeting", "name", *name, "wait", wait.String())
	select {
	case <-ctx.Done():
		logger.Info("interrupted")
		return platform.ExitInterrupted
	case <-time.After(*wait):
	}
	fmt.Fprintf(stdout, "Hello, %s!\n", *name)
	return platform.ExitOK
}
{% endif %}
