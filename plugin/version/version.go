// Package version holds the build stamp set by the Makefile's -ldflags.
package version

// Version and Commit are stamped at build time (make build).
var (
	Version = "dev"
	Commit  = "unknown"
)

// String is "chaosops <version> (<commit>)".
func String() string { return "chaosops " + Version + " (" + Commit + ")" }
