package commands

import (
	"strings"

	"github.com/urfave/cli/v2"
)

// interspersed lets flags follow positional arguments, as in
// `chaosops local install BLUEPRINT -d NAME` (urfave/cli v2 stops parsing
// flags at the first positional argument). It walks the command path and
// moves each command's positional arguments behind its flags.
func interspersed(app *cli.App, args []string) []string {
	if len(args) < 2 {
		return args
	}
	out := []string{args[0]}
	flags, cmds := app.Flags, app.Commands
	rest := args[1:]
	for {
		var pos, fl []string
		i := 0
		for ; i < len(rest); i++ {
			a := rest[i]
			if a == "--" {
				pos = append(pos, rest[i:]...)
				i = len(rest)
				break
			}
			if strings.HasPrefix(a, "-") && len(a) > 1 {
				fl = append(fl, a)
				if takesValue(flags, a) && !strings.Contains(a, "=") && i+1 < len(rest) {
					i++
					fl = append(fl, rest[i])
				}
				continue
			}
			if len(pos) == 0 {
				if sub := findCommand(cmds, a); sub != nil {
					// Flags seen so far belong to this level; descend.
					out = append(out, fl...)
					out = append(out, a)
					flags, cmds = sub.Flags, sub.Subcommands
					rest = rest[i+1:]
					goto next
				}
			}
			pos = append(pos, a)
		}
		out = append(out, fl...)
		return append(out, pos...)
	next:
	}
}

func findCommand(cmds []*cli.Command, name string) *cli.Command {
	for _, c := range cmds {
		if c.Name == name {
			return c
		}
		for _, a := range c.Aliases {
			if a == name {
				return c
			}
		}
	}
	return nil
}

func takesValue(flags []cli.Flag, arg string) bool {
	name := strings.TrimLeft(arg, "-")
	for _, f := range flags {
		for _, n := range f.Names() {
			if n == name {
				_, isBool := f.(*cli.BoolFlag)
				return !isBool
			}
		}
	}
	return false
}
