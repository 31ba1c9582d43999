// Package chaos runs Chaos Mesh experiments safely: one run creates one
// uniquely named, labelled chaos object with spec.duration set, watches it
// until every target is injected, holds, waits for recovery, deletes it and
// waits until it is gone; cancel deletes and waits too. Guardrails and a
// preflight run before anything is created, and the typed Result carries
// the verdict and the timeline. The steady-state probes (package probe) and
// the report files (package report) are packages of their own beside this
// one; package experiment joins them to a run.
//
// The package imports neither Cloudify code nor urfave/cli: the operations
// (chaos_actions.*) and the CLI (chaosops chaos ...) are thin adapters.
package chaos
