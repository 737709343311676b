{% set c = cookiecutter %}
{% if c.app_kind == "http" %}
// Command {{ c.project_slug }} is an HTTP service: {{ c.description }}.
//
// It listens on $PORT (default {{ c.http_port }}) and logs JSON with log/slog, one line
// per request. /healthz is its liveness and /readyz its readiness. On SIGTERM it
// drains, for rolling deploys: /readyz answers 503 at once, the server keeps
// serving for SHUTDOWN_DELAY while the load balancer takes it out of rotation
// (each response closes its connection, so clients reconnect elsewhere), then
// it shuts down, letting in-flight requests finish within SHUTDOWN_TIMEOUT.
// SIGINT (Ctrl-C) skips the delay, and so does a second signal.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/debug"
	"sync/atomic"
	"syscall"
	"time"
)

// Set at build time: go build -ldflags "-X main.version=... -X main.commit=...".
var (
	version = "dev"
	commit  = "unknown"
)

const (
	defaultPort = "{{ c.http_port }}"
	// Long enough for an orchestrator to stop routing here after SIGTERM
	// (Kubernetes: endpoint removal reaching kube-proxy and the ingress).
	defaultShutdownDelay = {{ drain_seconds("delay") }} * time.Second
	// In-flight requests get this long to finish once the server stops accepting.
	// Delay plus timeout stays below Kubernetes' default grace period, 30 s.
	defaultShutdownTimeout = {{ drain_seconds("timeout") }} * time.Second
	maxHeaderBytes         = 64 << 10 // request line and headers; larger gets 431
	maxBodyBytes           = 1 << 20  // reading more of a request body fails
	maxRequestIDLength     = 128
)

// config is the environment the service reads at start.
type config struct {
	port            string
	shutdownDelay   time.Duration
	shutdownTimeout time.Duration
	logLevel        slog.Level
}

func main() {
	showVersion := flag.Bool("version", false, "print the version and exit")
	healthcheck := flag.Bool("healthcheck", false, "probe this service's /healthz on localhost and exit 0 if it answers 200")
	flag.Parse()

	if *showVersion {
		fmt.Printf("{{ c.project_slug }} %s (%s)\n", version, commit)
		return
	}
	cfg, err := loadConfig(os.Getenv)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	if *healthcheck {
		if err := probe("http://127.0.0.1:" + cfg.port + "/healthz"); err != nil {
			fmt.Fprintln(os.Stderr, "unhealthy:", err)
			os.Exit(1)
		}
		return
	}

	logger := slog.New(slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{Level: cfg.logLevel}))
	// Signals arrive on a channel, not as a cancelled context: the first starts the
	// drain, and a second cuts it short.
	signals := make(chan os.Signal, 2)
	signal.Notify(signals, syscall.SIGTERM, os.Interrupt)

	listener, err := net.Listen("tcp", ":"+cfg.port)
	if err != nil {
		logger.Error("listen", "err", err)
		os.Exit(1)
	}
	s := &server{cfg: cfg, logger: logger}
	if err := s.serve(listener, s.handler(), signals); err != nil {
		logger.Error("serve", "err", err)
		os.Exit(1)
	}
}

// loadConfig reads PORT, SHUTDOWN_DELAY, SHUTDOWN_TIMEOUT (Go durations such as
// 5s or 1m) and LOG_LEVEL (debug, info, warn or error).
func loadConfig(getenv func(string) string) (config, error) {
	cfg := config{
		port:            defaultPort,
		shutdownDelay:   defaultShutdownDelay,
		shutdownTimeout: defaultShutdownTimeout,
	}
	if port := getenv("PORT"); port != "" {
		cfg.port = port
	}
	for name, d := range map[string]*time.Duration{
		"SHUTDOWN_DELAY":   &cfg.shutdownDelay,
		"SHUTDOWN_TIMEOUT": &cfg.shutdownTimeout,
	} {
		if value := getenv(name); value != "" {
			parsed, err := time.ParseDuration(value)
			if err != nil || parsed < 0 {
				return cfg, fmt.Errorf("%s: use a duration such as 5s or 0 (got %q)", name, value)
			}
			*d = parsed
		}
	}
	if level := getenv("LOG_LEVEL"); level != "" {
		if err := cfg.logLevel.UnmarshalText([]byte(level)); err != nil {
			return cfg, fmt.Errorf("LOG_LEVEL: use debug, info, warn or error (got %q)", level)
		}
	}
	return cfg, nil
}

// server is the service's HTTP server and its one piece of state.
type server struct {
	cfg      config
	logger   *slog.Logger
	draining atomic.Bool // from the first signal on: /readyz fails, connections close
}

// handler is the whole HTTP surface: the routes, and what every request goes through.
func (s *server) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "Hello from {{ c.project_slug }}")
	})
	// Liveness: the process answers. A restart would not help a failing dependency,
	// so check those in /readyz, not here.
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	})
	// Readiness: send traffic here. 503 while draining.
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if s.draining.Load() {
			http.Error(w, "draining", http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	})
	return s.everyRequest(mux)
}

// everyRequest gives each request an ID (the caller's X-Request-ID when it is
// sane, else a new one), bounds its body, closes its connection while draining,
// turns a panic into a 500, and logs one line when it ends.
func (s *server) everyRequest(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := r.Header.Get("X-Request-ID")
		if !saneRequestID(id) {
			id = newRequestID()
		}
		w.Header().Set("X-Request-ID", id)
		if s.draining.Load() {
			// Not an idle-connection close, which races the client's next request:
			// this response tells the client to reconnect, and the load balancer
			// sends the new connection to another instance.
			w.Header().Set("Connection", "close")
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxBodyBytes)
		rec := &recorder{ResponseWriter: w}

		defer func() {
			panicked := recover()
			begun := rec.status != 0
			if panicked != nil && !begun {
				http.Error(rec, "internal server error", http.StatusInternalServerError)
			}
			s.logRequest(r, rec, id, time.Since(start), panicked)
			if panicked != nil && begun {
				// The response had begun: abort it, so the client sees a broken
				// reply rather than a short one.
				panic(http.ErrAbortHandler)
			}
		}()
		next.ServeHTTP(rec, r)
	})
}

// logRequest writes a request's one log line. A panic logs at error level with
// its stack; probes that succeed log at debug level, so they do not drown the log.
func (s *server) logRequest(r *http.Request, rec *recorder, id string, took time.Duration, panicked any) {
	status := rec.status
	if status == 0 {
		status = http.StatusOK // the handler wrote nothing: net/http sends 200
	}
	level := slog.LevelInfo
	if status == http.StatusOK && (r.URL.Path == "/healthz" || r.URL.Path == "/readyz") {
		level = slog.LevelDebug
	}
	attrs := []slog.Attr{
		slog.String("method", r.Method),
		slog.String("path", r.URL.Path),
		slog.Int("status", status),
		slog.Int64("bytes", rec.bytes),
		slog.Float64("duration_ms", float64(took.Microseconds())/1000),
		slog.String("remote", r.RemoteAddr),
		slog.String("request_id", id),
	}
	if panicked != nil {
		level = slog.LevelError
		attrs = append(attrs, slog.Any("panic", panicked), slog.String("stack", string(debug.Stack())))
	}
	s.logger.LogAttrs(r.Context(), level, "request", attrs...)
}

// saneRequestID accepts an ID a log can hold as it is: printable ASCII, no spaces, bounded.
func saneRequestID(id string) bool {
	if id == "" || len(id) > maxRequestIDLength {
		return false
	}
	for i := 0; i < len(id); i++ {
		if id[i] <= ' ' || id[i] > '~' {
			return false
		}
	}
	return true
}

func newRequestID() string {
	var b [16]byte
	rand.Read(b[:]) // never fails on Linux (getrandom); documented so since Go 1.24
	return hex.EncodeToString(b[:])
}

// recorder notes the status and size of a response, for the log line.
type recorder struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (r *recorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
	r.ResponseWriter.WriteHeader(status)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	n, err := r.ResponseWriter.Write(b)
	r.bytes += int64(n)
	return n, err
}

// Flush sends what is buffered, for streaming handlers that use http.Flusher.
func (r *recorder) Flush() {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	http.NewResponseController(r.ResponseWriter).Flush()
}

// Unwrap lets http.ResponseController reach the deadlines and the connection underneath.
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// serve answers on listener until the first signal, then drains: readiness fails
// at once, and the server keeps serving for the shutdown delay (SIGTERM only; a
// second signal cuts it short). Then it shuts down gracefully: no new
// connections, and in-flight requests get up to the shutdown timeout.
func (s *server) serve(listener net.Listener, handler http.Handler, signals <-chan os.Signal) error {
	httpServer := &http.Server{
		Handler: handler,
		// Slow or idle clients must not hold connections forever.
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(s.logger.Handler(), slog.LevelWarn),
	}

	served := make(chan error, 1)
	go func() { served <- httpServer.Serve(listener) }()
	s.logger.Info("listening", "addr", listener.Addr().String(), "version", version, "commit", commit)

	var sig os.Signal
	select {
	case err := <-served:
		return err
	case sig = <-signals:
	}

	s.draining.Store(true)
	if sig == syscall.SIGTERM && s.cfg.shutdownDelay > 0 {
		s.logger.Info("draining", "signal", sig.String(), "delay", s.cfg.shutdownDelay.String())
		select {
		case <-time.After(s.cfg.shutdownDelay):
		case sig = <-signals:
			s.logger.Info("drain cut short", "signal", sig.String())
		}
	}

	s.logger.Info("shutting down", "timeout", s.cfg.shutdownTimeout.String())
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.shutdownTimeout)
	defer cancel()
	if err := httpServer.Shutdown(ctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	s.logger.Info("stopped")
	return nil
}

// probe is the container's health check (HEALTHCHECK, `make verify`'s smoke run,
// an exec probe): images without a shell or curl (scratch, distroless) run the
// service's own binary to ask /healthz.
func probe(url string) error {
	client := &http.Client{Timeout: 2 * time.Second}
	resp, err := client.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s answered %s", url, resp.Status)
	}
	return nil
}
{% else %}
// Command {{ c.project_slug }} is a command-line tool: {{ c.description }}.
//
// SIGINT (Ctrl-C) or SIGTERM cancels its work through the context given to run,
// which then exits 130, the shell's code for an interrupt. A second signal ends
// the process at once.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// Set at build time: go build -ldflags "-X main.version=... -X main.commit=...".
var (
	version = "dev"
	commit  = "unknown"
)

// exitInterrupted is the exit code after a signal cancelled the work (128 + SIGINT).
const exitInterrupted = 130

func main() {
	ctx, cancel := context.WithCancel(context.Background())
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-signals
		signal.Stop(signals) // a second signal gets the default behaviour: exit now
		cancel()
	}()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// run is the whole program, apart from the process: it returns the exit code.
// Its work stops when ctx is cancelled.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	flags := flag.NewFlagSet("{{ c.project_slug }}", flag.ContinueOnError)
	flags.SetOutput(stderr)
	showVersion := flags.Bool("version", false, "print the version and exit")
	name := flags.String("name", "world", "who to greet")
	wait := flags.Duration("wait", 0, "wait this long before greeting (work that Ctrl-C cancels)")
	verbose := flags.Bool("v", false, "log debug messages to stderr")
	if err := flags.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}

	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))

	if *showVersion {
		fmt.Fprintf(stdout, "{{ c.project_slug }} %s (%s)\n", version, commit)
		return 0
	}
	if flags.NArg() > 0 {
		fmt.Fprintf(stderr, "unexpected arguments: %q\n", flags.Args())
		flags.Usage()
		return 2
	}
	if err := greet(ctx, stdout, *name, *wait, logger); err != nil {
		if ctx.Err() != nil {
			logger.Info("interrupted")
			return exitInterrupted
		}
		logger.Error("greet", "err", err)
		return 1
	}
	return 0
}

// greet is the tool's work: anything long-running takes ctx and stops when it is done.
func greet(ctx context.Context, w io.Writer, name string, wait time.Duration, logger *slog.Logger) error {
	logger.Debug("greeting", "name", name, "wait", wait.String())
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
	}
	_, err := fmt.Fprintf(w, "Hello, %s!\n", name)
	return err
}
{% endif %}
