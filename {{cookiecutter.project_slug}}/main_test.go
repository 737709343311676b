{% set c = cookiecutter %}
{% if c.app_kind == "http" %}
package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// The service's own routes. internal/platform tests the server around them.
func TestRoutes(t *testing.T) {
	handler := routes()
	tests := []struct {
		method, path string
		wantStatus   int
		wantBody     string
	}{
		{http.MethodGet, "/", http.StatusOK, "Hello from {{ c.project_slug }}\n"},
		{http.MethodGet, "/missing", http.StatusNotFound, ""},
		{http.MethodPost, "/", http.StatusMethodNotAllowed, ""},
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
	if code := run(ctx, []string{"-wait", "1h"}, &stdout, &stderr); code != 130 || stdout.Len() != 0 {
		t.Fatalf("exit %d, stdout %q; want 130 and nothing", code, stdout.String())
	}
}
{% endif %}
