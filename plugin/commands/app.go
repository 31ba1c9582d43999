// Package commands is the CLI adapter, a urfave/cli app: flags become the
// options of the same domain calls the Cloudify operations make (the chaos
// flags are derived from package runopts and read by its reader,
// flagsource.go). No business logic lives here; which mode the executable
// runs in is chosen by its main.
package commands

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/urfave/cli/v2"

	"github.com/cloudify-chaos/chaosops/plugin/cloudify/operation"
	"github.com/cloudify-chaos/chaosops/plugin/failure"
	"github.com/cloudify-chaos/chaosops/plugin/operations"
	"github.com/cloudify-chaos/chaosops/plugin/version"
)

// Exit codes of the CLI (documented in README).
const (
	ExitOK        = 0
	ExitError     = 1 // the command failed
	ExitUsage     = 2 // bad flags or arguments
	ExitCancelled = operation.ExitCancelled
)

// Main runs the CLI with args (os.Args) and returns the exit code.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	app := New(stdout, stderr)
	markUsageErrors(app.Commands)
	app.OnUsageError = onUsageError
	err := app.RunContext(ctx, interspersed(app, args))
	return exitCode(ctx, err, stderr)
}

// New builds the CLI.
func New(stdout, stderr io.Writer) *cli.App {
	return &cli.App{
		Name:      "chaosops",
		Usage:     "chaos experiments as Day-2 operations for Cloudify",
		Version:   version.Version + " (" + version.Commit + ")",
		Writer:    stdout,
		ErrWriter: stderr,
		Description: "Run by Cloudify's script plugin (no arguments, CTX_SOCKET_URL set) chaosops serves the\n" +
			"operation it was started for; otherwise it is this CLI.",
		HideVersion:          false,
		EnableBashCompletion: true,
		ExitErrHandler:       func(*cli.Context, error) {}, // exit codes are ours
		Commands: append(kubeCommands(), []*cli.Command{
			versionCommand(),
			operationsCommand(),
			localCommand(),
			chaosCommand(),
			tfCommand(),
			blueprintCommand(),
			helmCommand(),
			reportCommand(),
			loadCommand(),
		}...),
	}
}

func onUsageError(_ *cli.Context, err error, _ bool) error { return usageError{err} }

// markUsageErrors makes flag-parsing errors of every command exit 2.
func markUsageErrors(cmds []*cli.Command) {
	for _, c := range cmds {
		c.OnUsageError = onUsageError
		markUsageErrors(c.Subcommands)
	}
}

// usageError marks bad flags or arguments (exit 2).
type usageError struct{ error }

func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

// usageIfInvalid marks bad input a domain call found (failure.IsInvalid)
// as a usage error; any other error is returned as it is.
func usageIfInvalid(err error) error {
	if failure.IsInvalid(err) {
		return usageError{err}
	}
	return err
}

// exitError carries a specific exit code (e.g. a verdict's).
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func exitCode(ctx context.Context, err error, stderr io.Writer) int {
	if err == nil {
		return ExitOK
	}
	fmt.Fprintln(stderr, "chaosops:", err)
	var ee *exitError
	var ue usageError
	switch {
	case errors.As(err, &ee):
		return ee.code
	case ctx.Err() != nil || errors.Is(err, operation.ErrCancelled):
		return ExitCancelled
	case errors.As(err, &ue):
		return ExitUsage
	}
	return ExitError
}

func versionCommand() *cli.Command {
	return &cli.Command{
		Name:  "version",
		Usage: "print the version and commit this executable was built from",
		Action: func(c *cli.Context) error {
			_, err := fmt.Fprintln(c.App.Writer, version.String())
			return err
		},
	}
}

func operationsCommand() *cli.Command {
	return &cli.Command{
		Name:  "operations",
		Usage: "list the Cloudify operations this executable serves, with their inputs",
		Action: func(c *cli.Context) error {
			w := c.App.Writer
			for _, h := range operations.Registry().Handlers() {
				fmt.Fprintf(w, "%s\n    %s\n", h.Name, h.Summary)
				for _, in := range h.Inputs {
					def := ""
					if in.Default != "" {
						def = " (default " + in.Default + ")"
					}
					fmt.Fprintf(w, "    - %s%s: %s\n", in.Name, def, in.Description)
				}
			}
			return nil
		},
	}
}
