{% set c = cookiecutter %}
{% if c.app_kind == "http" %}
package main

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

func quietServer() *server {
	return &server{cfg: config{shutdownTimeout: 5 * time.Second}, logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
}

func TestRoutes(t *testing.T) {
	handler := quietServer().handler()
	tests := []struct {
		method, path string
		wantStatus   int
		wantBody     string
	}{
		{http.MethodGet, "/", http.StatusOK, "Hello from {{ c.project_slug }}"},
		{http.MethodGet, "/healthz", http.StatusOK, "ok"},
		{http.MethodGet, "/readyz", http.StatusOK, "ok"},
		{http.MethodGet, "/missing", http.StatusNotFound, ""},
		{http.MethodPost, "/healthz", http.StatusMethodNotAllowed, ""},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			rec := httptest.NewRecorder()
			handler.ServeHTTP(rec, httptest.NewRequest(tt.method, tt.path, nil))
			if rec.Code != tt.wantStatus {
				t.Fatalf("status = %d, want %d", rec.Code, tt.wantStatus)
			}
			if !strings.Contains(rec.Body.String(), tt.wantBody) {
				t.Fatalf("body = %q, want it to contain %q", rec.Body.String(), tt.wantBody)
			}
		})
	}
}

// While draining, readiness fails and every response closes its connection.
func TestDraining(t *testing.T) {
	s := quietServer()
	s.draining.Store(true)
	handler := s.handler()
	for path, want := range map[string]int{"/readyz": http.StatusServiceUnavailable, "/healthz": http.StatusOK, "/": http.StatusOK} {
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		if rec.Code != want || rec.Header().Get("Connection") != "close" {
			t.Errorf("%s while draining: %d, Connection %q; want %d, close", path, rec.Code, rec.Header().Get("Connection"), want)
		}
	}
}

// Each request logs exactly one JSON line; a sane X-Request-ID is echoed, any other replaced.
func TestAccessLog(t *testing.T) {
	tests := []struct {
		name, sent string
		echoed     bool
	}{
		{"none sent", "", false},
		{"uuid", "3f2b8c1e-5d4a-4e6f-9a7b-1c2d3e4f5a6b", true},
		{"oversized", strings.Repeat("a", maxRequestIDLength+1), false},
		{"spaces", "id with spaces", false},
		{"quote and control", "x\"\x1b[31m", false},
		{"non-ASCII", "idé", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			s := &server{logger: slog.New(slog.NewJSONHandler(&logs, nil))}
			req := httptest.NewRequest(http.MethodGet, "/", nil)
			req.Header.Set("X-Request-ID", tt.sent)
			rec := httptest.NewRecorder()
			s.handler().ServeHTTP(rec, req)

			id := rec.Header().Get("X-Request-ID")
			if (id == tt.sent) != tt.echoed || !saneRequestID(id) {
				t.Fatalf("X-Request-ID %q answered %q; echoed = %v, want %v", tt.sent, id, id == tt.sent, tt.echoed)
			}
			lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
			if len(lines) != 1 {
				t.Fatalf("%d log lines, want 1: %q", len(lines), logs.String())
			}
			var line map[string]any
			if err := json.Unmarshal([]byte(lines[0]), &line); err != nil {
				t.Fatal(err)
			}
			for _, field := range []string{"method", "path", "status", "bytes", "duration_ms", "remote", "request_id"} {
				if _, ok := line[field]; !ok {
					t.Errorf("log line lacks %q: %s", field, lines[0])
				}
			}
			if line["request_id"] != id || line["status"] != float64(200) || line["bytes"] != float64(rec.Body.Len()) {
				t.Errorf("log line %s does not match the response (id %q, %d bytes)", lines[0], id, rec.Body.Len())
			}
		})
	}
}

// A handler's panic is a 500 with a log line holding the stack, and the server serves on.
func TestPanicIsA500(t *testing.T) {
	var logs bytes.Buffer
	s := &server{logger: slog.New(slog.NewJSONHandler(&logs, nil))}
	mux := http.NewServeMux()
	mux.HandleFunc("/panic", func(http.ResponseWriter, *http.Request) { panic("boom") })
	mux.HandleFunc("/ok", func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "ok") })
	ts := httptest.NewServer(s.everyRequest(mux))
	defer ts.Close()

	for _, path := range []string{"/panic", "/ok"} {
		resp, err := http.Get(ts.URL + path)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		resp.Body.Close()
		if want := map[string]int{"/panic": 500, "/ok": 200}[path]; resp.StatusCode != want {
			t.Fatalf("%s: status %d, want %d", path, resp.StatusCode, want)
		}
	}
	first := strings.SplitN(logs.String(), "\n", 2)[0]
	if !strings.Contains(first, `"level":"ERROR"`) || !strings.Contains(first, `"panic":"boom"`) || !strings.Contains(first, "main_test.go") {
		t.Fatalf("the panic's log line lacks its level, value or stack: %s", first)
	}
}

func TestBodyLimit(t *testing.T) {
	s := quietServer()
	read := s.everyRequest(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.ReadAll(r.Body); err != nil {
			http.Error(w, err.Error(), http.StatusRequestEntityTooLarge)
		}
	}))
	rec := httptest.NewRecorder()
	read.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/", strings.NewReader(strings.Repeat("x", maxBodyBytes+1))))
	if rec.Code != http.StatusRequestEntityTooLarge {
		t.Fatalf("a body over the limit: status %d, want 413", rec.Code)
	}
}

func TestLoadConfig(t *testing.T) {
	env := func(vars map[string]string) func(string) string {
		return func(name string) string { return vars[name] }
	}
	cfg, err := loadConfig(env(nil))
	if err != nil || cfg.port != defaultPort || cfg.shutdownDelay != defaultShutdownDelay ||
		cfg.shutdownTimeout != defaultShutdownTimeout || cfg.logLevel != slog.LevelInfo {
		t.Fatalf("defaults: %+v, %v", cfg, err)
	}
	cfg, err = loadConfig(env(map[string]string{"PORT": "9000", "SHUTDOWN_DELAY": "0", "SHUTDOWN_TIMEOUT": "1m", "LOG_LEVEL": "debug"}))
	if err != nil || cfg.port != "9000" || cfg.shutdownDelay != 0 || cfg.shutdownTimeout != time.Minute || cfg.logLevel != slog.LevelDebug {
		t.Fatalf("overrides: %+v, %v", cfg, err)
	}
	for _, bad := range []map[string]string{
		{"SHUTDOWN_DELAY": "5"},
		{"SHUTDOWN_TIMEOUT": "-1s"},
		{"LOG_LEVEL": "loud"},
	} {
		if _, err := loadConfig(env(bad)); err == nil {
			t.Errorf("%v: accepted, want an error", bad)
		}
	}
}

// startServing runs serve on a loopback port; the returned channel has its result.
func startServing(t *testing.T, s *server, handler http.Handler, signals chan os.Signal) (string, chan error) {
	t.Helper()
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- s.serve(listener, handler, signals) }()
	return "http://" + listener.Addr().String(), served
}

// SIGINT while a request is in flight: the request completes, and serve returns nil.
func TestGracefulShutdown(t *testing.T) {
	started := make(chan struct{})
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		time.Sleep(100 * time.Millisecond)
		_, _ = io.WriteString(w, "done")
	})
	signals := make(chan os.Signal, 2)
	url, served := startServing(t, quietServer(), handler, signals)

	type result struct {
		body string
		err  error
	}
	got := make(chan result, 1)
	go func() {
		resp, err := http.Get(url)
		if err != nil {
			got <- result{err: err}
			return
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		got <- result{string(body), err}
	}()

	<-started
	signals <- os.Interrupt
	if r := <-got; r.err != nil || r.body != "done" {
		t.Fatalf("in-flight request: body %q, err %v; want it to finish", r.body, r.err)
	}
	if err := <-served; err != nil {
		t.Fatalf("serve returned %v, want nil after a graceful shutdown", err)
	}
}

// SIGTERM starts the drain: readiness fails at once while the server keeps
// serving for the delay; a second signal ends the delay.
func TestDrainDelay(t *testing.T) {
	s := quietServer()
	s.cfg.shutdownDelay = time.Hour
	signals := make(chan os.Signal, 2)
	url, served := startServing(t, s, s.handler(), signals)

	signals <- syscall.SIGTERM
	for !s.draining.Load() {
		time.Sleep(time.Millisecond)
	}
	resp, err := http.Get(url + "/readyz")
	if err != nil {
		t.Fatalf("the server stopped serving during the delay: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("/readyz while draining: %d, want 503", resp.StatusCode)
	}
	signals <- syscall.SIGTERM
	if err := <-served; err != nil {
		t.Fatalf("serve returned %v after a second signal, want nil", err)
	}
}

func TestProbe(t *testing.T) {
	healthy := httptest.NewServer(quietServer().handler())
	defer healthy.Close()
	if err := probe(healthy.URL + "/healthz"); err != nil {
		t.Fatalf("probe of a healthy server: %v", err)
	}
	if err := probe(healthy.URL + "/missing"); err == nil {
		t.Fatal("probe of a 404 succeeded, want an error")
	}
	healthy.Close()
	if err := probe(healthy.URL + "/healthz"); err == nil {
		t.Fatal("probe of a stopped server succeeded, want an error")
	}
}
{% else %}
package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func TestRun(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantStdout string
	}{
		{"default greeting", nil, 0, "Hello, world!\n"},
		{"name flag", []string{"-name", "Gopher"}, 0, "Hello, Gopher!\n"},
		{"version", []string{"-version"}, 0, "{{ c.project_slug }} dev (unknown)\n"},
		{"unknown flag", []string{"-nope"}, 2, ""},
		{"stray argument", []string{"extra"}, 2, ""},
		{"help", []string{"-h"}, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if code := run(context.Background(), tt.args, &stdout, &stderr); code != tt.wantCode {
				t.Fatalf("exit code = %d, want %d (stderr %q)", code, tt.wantCode, stderr.String())
			}
			if stdout.String() != tt.wantStdout {
				t.Fatalf("stdout = %q, want %q", stdout.String(), tt.wantStdout)
			}
			if tt.wantCode == 2 && !strings.Contains(stderr.String(), "Usage") {
				t.Fatalf("stderr = %q, want usage", stderr.String())
			}
		})
	}
}

// A cancelled context (a signal, in main) stops the work: exit 130, no greeting.
func TestRunInterrupted(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var stdout, stderr bytes.Buffer
	if code := run(ctx, []string{"-wait", "1h"}, &stdout, &stderr); code != exitInterrupted || stdout.Len() != 0 {
		t.Fatalf("exit %d, stdout %q; want %d and nothing", code, stdout.String(), exitInterrupted)
	}
}
{% endif %}
