// Package platform is everything in this service that is not its own business:
// build information, the command line's signals and exit codes, and for a web
// server its settings, lifecycle, middleware and health endpoints.
//
// The template owns this package: `copier update` (or `cruft update`) brings its
// fixes and improvements, merged with any edit of yours. Your code lives in
// package main (main.go), which calls into it.
package platform

import "fmt"

// Set at build time by the Makefile and the Dockerfile (their LDFLAGS):
// go build -ldflags "-X <module>/internal/platform.version=... -X <module>/internal/platform.commit=...".
var (
	version = "dev"
	commit  = "unknown"
)

// Version is the release this binary was built from (git describe), or "dev".
func Version() string { return version }

// Commit is the commit this binary was built from, or "unknown".
func Commit() string { return commit }

// VersionLine is what -version prints: the name, the version and the commit.
func VersionLine() string { return fmt.Sprintf("%s %s (%s)", Name, version, commit) }
