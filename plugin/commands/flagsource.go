package commands

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/cloudify-chaos/chaosops/plugin/redact"
	"github.com/cloudify-chaos/chaosops/plugin/runopts"
)

// specFlags are the CLI flags of option sets, in order.
func specFlags(sets ...runopts.Set) []cli.Flag {
	var out []cli.Flag
	for _, o := range runopts.On(runopts.FlagSide, sets...) {
		out = append(out, specFlag(o))
	}
	return out
}

// specFlag is the flag of o, its default that of the flag side.
func specFlag(o *runopts.Option) cli.Flag {
	f, def := o.Flag, o.DefaultOn(runopts.FlagSide)
	switch o.Kind {
	case runopts.Bool:
		v, _ := def.(bool)
		return &cli.BoolFlag{Name: f.Name, Aliases: f.Aliases, EnvVars: f.EnvVars, Required: f.Required, Usage: f.Usage, Value: v}
	case runopts.Int:
		v, _ := def.(int)
		return &cli.IntFlag{Name: f.Name, Aliases: f.Aliases, EnvVars: f.EnvVars, Required: f.Required, Usage: f.Usage, Value: v}
	case runopts.Float:
		v, _ := def.(float64)
		return &cli.Float64Flag{Name: f.Name, Aliases: f.Aliases, EnvVars: f.EnvVars, Required: f.Required, Usage: f.Usage, Value: v}
	case runopts.Duration:
		v, _ := def.(time.Duration)
		return &cli.DurationFlag{Name: f.Name, Aliases: f.Aliases, EnvVars: f.EnvVars, Required: f.Required, Usage: f.Usage, Value: v}
	case runopts.List:
		return &cli.StringSliceFlag{Name: f.Name, Aliases: f.Aliases, EnvVars: f.EnvVars, Required: f.Required, Usage: f.Usage}
	case runopts.Ports:
		return &cli.IntSliceFlag{Name: f.Name, Aliases: f.Aliases, EnvVars: f.EnvVars, Required: f.Required, Usage: f.Usage}
	case runopts.String, runopts.Labels, runopts.Text:
		v, _ := def.(string)
		return &cli.StringFlag{Name: f.Name, Aliases: f.Aliases, EnvVars: f.EnvVars, Required: f.Required, Usage: f.Usage, Value: v}
	}
	panic(fmt.Sprintf("commands: option %s of kind %d has no flag form", o.Key(), o.Kind))
}

// flagSource is the runopts.Source of a command's flags: urfave has parsed
// them and applied their defaults, so only files can fail.
type flagSource struct{ c *cli.Context }

func (flagSource) Side() runopts.Side { return runopts.FlagSide }

func (s flagSource) String(o *runopts.Option) string { return s.c.String(o.Flag.Name) }

func (s flagSource) Bool(o *runopts.Option) (bool, error) { return s.c.Bool(o.Flag.Name), nil }

func (s flagSource) Int(o *runopts.Option) (int, error) { return s.c.Int(o.Flag.Name), nil }

func (s flagSource) Float(o *runopts.Option) (float64, error) { return s.c.Float64(o.Flag.Name), nil }

func (s flagSource) Duration(o *runopts.Option) (time.Duration, error) {
	return s.c.Duration(o.Flag.Name), nil
}

func (s flagSource) List(o *runopts.Option) ([]string, error) {
	return s.c.StringSlice(o.Flag.Name), nil
}

func (s flagSource) Ports(o *runopts.Option) ([]int, error) { return s.c.IntSlice(o.Flag.Name), nil }

func (s flagSource) Value(o *runopts.Option) any { return s.c.String(o.Flag.Name) }

// Decode has nothing to decode: no dict is a flag.
func (flagSource) Decode(*runopts.Option, any) error { return nil }

// Text is the flag's value, or the content of the file it names.
func (s flagSource) Text(o *runopts.Option) (string, bool, error) {
	v := s.c.String(o.Flag.Name)
	if o.Flag.File == runopts.NoFile || v == "" {
		return v, v != "", nil
	}
	b, err := os.ReadFile(v)
	switch {
	case o.Flag.File == runopts.StateFile && os.IsNotExist(err):
		return "", false, nil
	case o.Flag.File == runopts.StateFile && err != nil:
		return "", false, fmt.Errorf("%s %s: %w", strings.ReplaceAll(o.Input.Name, "_", " "), v, err)
	case o.Flag.File == runopts.StateFile:
		return strings.TrimSpace(string(b)), true, nil
	case err != nil:
		return "", false, usageError{fmt.Errorf("--%s: %w", o.Flag.Name, err)}
	}
	return string(b), true, nil
}

// Invalid is a usage error; for a file, it names the flag and the file.
func (s flagSource) Invalid(o *runopts.Option, err error) error {
	if o.Flag.File != runopts.NoFile {
		return usageError{fmt.Errorf("--%s %s: %w", o.Flag.Name, s.c.String(o.Flag.Name), err)}
	}
	// Most errors name their flag already; a reader's own check does not.
	if o.Flag.Name != "" && !strings.Contains(err.Error(), "--"+o.Flag.Name) {
		return usageError{fmt.Errorf("--%s: %w", o.Flag.Name, err)}
	}
	return usageError{err}
}

// redactSensitive registers the values of the sets' sensitive flags with
// red before anything can log them.
func (s flagSource) redactSensitive(red *redact.Redactor, sets ...runopts.Set) {
	for _, o := range runopts.On(runopts.FlagSide, sets...) {
		if o.Sensitive {
			red.Add(s.c.String(o.Flag.Name))
		}
	}
}
