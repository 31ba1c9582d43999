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
	"reflect"
	"strings"

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
	app.OnUsageError = onUsageError
	app.Action = groupAction(app.Commands)
	prepare(app.Commands, map[cli.Flag]bool{})
	err := app.RunContext(ctx, interspersed(app, args))
	return exitCode(ctx, unknownHelpTopic(app, args, err), stderr)
}

// unknownHelpTopic turns urfave/cli's "No help topic for 'x'" (help x,
// x --help) into the error an unknown command gets: the command group, the
// nearest command, where to look.
func unknownHelpTopic(app *cli.App, args []string, err error) error {
	var help cli.ExitCoder
	if !errors.As(err, &help) || !strings.HasPrefix(err.Error(), "No help topic for ") {
		return err
	}
	bad := strings.TrimSuffix(strings.TrimPrefix(err.Error(), "No help topic for '"), "'")
	name, cmds := app.Name, app.Commands
	for _, a := range args[1:] {
		if a == bad {
			break
		}
		for _, c := range cmds {
			if c.HasName(a) && c.Name != "help" {
				name, cmds = name+" "+c.Name, c.Subcommands
				break
			}
		}
	}
	suggestion := ""
	if s := cli.SuggestCommand(cmds, bad); s != "" {
		suggestion = " (d" + strings.TrimPrefix(s, "D") + ")"
	}
	return usagef("unknown command %q for %s%s; see %s --help", bad, name, suggestion, name)
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

// onUsageError makes flag-parsing errors exit 2, with the nearest flag
// suggested for an unknown one and the help to read.
func onUsageError(c *cli.Context, err error, _ bool) error {
	var flags []cli.Flag
	name := c.App.Name
	if c.Command != nil && c.Command.Name != "" {
		flags, name = c.Command.Flags, c.Command.HelpName
	} else {
		flags = c.App.Flags
	}
	msg := err.Error()
	if bad, ok := strings.CutPrefix(msg, "flag provided but not defined: -"); ok {
		bad = strings.TrimLeft(bad, "-")
		msg = "unknown flag " + dashed(bad)
		if cli.SuggestFlag != nil {
			if s := cli.SuggestFlag(flags, bad, false); s != "" {
				msg += " (did you mean " + s + "?)"
			}
		}
	}
	return usagef("%s; see %s --help", msg, name)
}

// prepare walks the commands: flag errors exit 2; required flags are
// checked here, one line naming the flag (urfave/cli would print the whole
// help first), and marked "(required)" in the help; a group of commands
// refuses an unknown command, naming the nearest.
func prepare(cmds []*cli.Command, required map[cli.Flag]bool) {
	for _, c := range cmds {
		c.OnUsageError = onUsageError
		if req := unrequire(c.Flags, required); len(req) > 0 {
			c.Before = checkRequired(req, c.Before)
		}
		if len(c.Subcommands) > 0 && c.Action == nil {
			c.Action = groupAction(c.Subcommands)
		}
		prepare(c.Subcommands, required)
	}
}

// unrequire returns the required flags of flags, now marked "(required)"
// in their usage and left for checkRequired to check; required holds the
// flags already done (commands share flag values). Every urfave flag type
// has the fields Required and Usage.
func unrequire(flags []cli.Flag, required map[cli.Flag]bool) []cli.Flag {
	var out []cli.Flag
	for _, f := range flags {
		if rf, ok := f.(cli.RequiredFlag); ok && rf.IsRequired() {
			v := reflect.ValueOf(f).Elem()
			v.FieldByName("Required").SetBool(false)
			usage := v.FieldByName("Usage")
			usage.SetString(usage.String() + " (required)")
			required[f] = true
		}
		if required[f] {
			out = append(out, f)
		}
	}
	return out
}

// checkRequired runs before a command's action (and before): a required
// flag that is not set is a usage error naming it and its aliases.
func checkRequired(required []cli.Flag, before cli.BeforeFunc) cli.BeforeFunc {
	return func(c *cli.Context) error {
		for _, f := range required {
			set := false
			for _, n := range f.Names() {
				set = set || c.IsSet(n)
			}
			if !set {
				return usagef("missing required flag %s; see %s --help", flagRef(f), c.Command.HelpName)
			}
		}
		if before != nil {
			return before(c)
		}
		return nil
	}
}

// flagRef is how a flag is written in messages: --selector (-l).
func flagRef(f cli.Flag) string {
	names := f.Names()
	ref := dashed(names[0])
	if len(names) > 1 {
		var alts []string
		for _, n := range names[1:] {
			alts = append(alts, dashed(n))
		}
		ref += " (" + strings.Join(alts, ", ") + ")"
	}
	return ref
}

func dashed(name string) string {
	if len(name) == 1 {
		return "-" + name
	}
	return "--" + name
}

// groupAction is the action of a command that only groups others: without
// arguments it shows the help, with an unknown command it names the
// nearest one.
func groupAction(cmds []*cli.Command) cli.ActionFunc {
	return func(c *cli.Context) error {
		name := c.App.Name
		if c.Command != nil && c.Command.Name != "" {
			name = c.Command.HelpName
		}
		if !c.Args().Present() {
			if c.Command == nil || c.Command.Name == "" {
				return cli.ShowAppHelp(c)
			}
			return cli.ShowSubcommandHelp(c)
		}
		bad, suggestion := c.Args().First(), ""
		if cli.SuggestCommand != nil {
			// "Did you mean "install"?", as urfave/cli words it.
			if s := cli.SuggestCommand(cmds, bad); s != "" {
				suggestion = " (d" + strings.TrimPrefix(s, "D") + ")"
			}
		}
		return usagef("unknown command %q for %s%s; see %s --help", bad, name, suggestion, name)
	}
}

// usageError marks bad flags or arguments (exit 2).
type usageError struct{ error }

func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

// usageIfInvalid marks bad input a domain call found (failure.IsInvalid)
// as a usage error; any other error is returned as it is. (exitCode also
// gives every invalid error exit 2.)
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
	var help cli.ExitCoder // only urfave/cli's "No help topic for 'x'"
	switch {
	case errors.As(err, &ee):
		return ee.code
	case ctx.Err() != nil || errors.Is(err, operation.ErrCancelled):
		return ExitCancelled
	case errors.As(err, &ue), errors.As(err, &help), failure.IsInvalid(err):
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
