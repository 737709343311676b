{% set c = cookiecutter %}
{% if c.app_kind == "http" %}
package main

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestRoutes(t *testing.T) {
	handler := newHandler(slog.New(slog.NewTextHandler(io.Discard, nil)))
	tests := []struct {
		method, path string
		wantStatus   int
		wantBody     string
	}{
		{http.MethodGet, "/", http.StatusOK, "Hello from {{ c.project_slug }}"},
		{http.MethodGet, "/healthz", http.StatusOK, "ok"},
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

// TestGracefulShutdown cancels the context while a request is in flight:
// the request must still complete, and serve must return nil.
func TestGracefulShutdown(t *testing.T) {
	started := make(chan struct{})
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		time.Sleep(100 * time.Millisecond)
		io.WriteString(w, "done")
	})
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- serve(ctx, listener, handler, slog.New(slog.NewTextHandler(io.Discard, nil))) }()

	type result struct {
		body string
		err  error
	}
	got := make(chan result, 1)
	go func() {
		resp, err := http.Get("http://" + listener.Addr().String() + "/")
		if err != nil {
			got <- result{err: err}
			return
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		got <- result{string(body), err}
	}()

	<-started
	cancel()
	if r := <-got; r.err != nil || r.body != "done" {
		t.Fatalf("in-flight request: body %q, err %v; want it to finish", r.body, r.err)
	}
	if err := <-served; err != nil {
		t.Fatalf("serve returned %v, want nil after a graceful shutdown", err)
	}
}

func TestProbe(t *testing.T) {
	healthy := httptest.NewServer(newHandler(slog.New(slog.NewTextHandler(io.Discard, nil))))
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
			if code := run(tt.args, &stdout, &stderr); code != tt.wantCode {
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
{% endif %}
