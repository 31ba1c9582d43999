// Package runopts declares, once, the options of a chaos run and of the
// commands that manage runs: each option's input name, flag name, kind,
// domain default and help texts. The Cloudify operations derive their
// inputs from it and the CLI its flags, and one reader (read.go) fills
// the domain's option structs from either side's Source. It imports
// neither urfave/cli nor the Cloudify packages: each adapter brings a
// small Source of its own.
package runopts

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Side is where an option is given: as an operation input or a CLI flag.
type Side int

// The two sides.
const (
	InputSide Side = iota + 1
	FlagSide
)

// Kind is the type of an option's value.
type Kind int

// Kinds of options. A Source returns each as the Go type in its comment.
const (
	String   Kind = iota + 1 // string
	Bool                     // bool
	Int                      // int
	Float                    // float64
	Duration                 // time.Duration
	List                     // []string
	Ports                    // []int: a list of strings on the input side
	Labels                   // k=v,k=v text, or a dict on the input side
	Dict                     // a JSON object decoded into a struct (input side only)
	Text                     // a text; on the flag side with File set, a file's path
)

// FileMode says how a flag names a file whose content is the value.
type FileMode int

// File modes of a flag.
const (
	// NoFile: the flag's value is the value.
	NoFile FileMode = iota
	// UserFile: the user names the file; it must be readable, and its
	// errors are usage errors naming the flag and the file.
	UserFile
	// StateFile: the file is a switch kept on disk (the safety lever): no
	// file means unset, the content is trimmed, a read error is no usage
	// error.
	StateFile
)

// Option is one option of a set, on one or both sides.
type Option struct {
	Kind Kind
	// Default is the domain's default on both sides (nil for none), taken
	// from the domain's constants; Input.Default or Flag.Default overrides
	// it on one side.
	Default any
	// Sensitive values are secrets: hidden in listings and redacted.
	Sensitive bool
	Input     Input
	Flag      Flag
}

// Input is an option's operation input.
type Input struct {
	Name        string // snake_case; empty when the option is a flag only
	Description string
	// Default, when not nil, is the input's default instead of
	// Option.Default.
	Default any
	// DefaultText is shown instead of a default computed at run time.
	DefaultText string
}

// Flag is an option's CLI flag.
type Flag struct {
	Name     string // kebab-case; empty when the option is an input only
	Usage    string
	Aliases  []string
	EnvVars  []string
	Required bool
	// Default, when not nil, is the flag's default instead of
	// Option.Default; DefaultFrom, when set, computes it when the flag is
	// built (a path under the user's config folder).
	Default     any
	DefaultFrom func() string
	File        FileMode
}

// Key names the option within its set: its input name, else its flag name.
func (o *Option) Key() string {
	if o.Input.Name != "" {
		return o.Input.Name
	}
	return o.Flag.Name
}

// On reports whether the option exists on side s.
func (o *Option) On(s Side) bool {
	if s == InputSide {
		return o.Input.Name != ""
	}
	return o.Flag.Name != ""
}

// DefaultOn is the option's default value on side s (nil for none).
func (o *Option) DefaultOn(s Side) any {
	switch {
	case s == InputSide && o.Input.Default != nil:
		return o.Input.Default
	case s == FlagSide && o.Flag.DefaultFrom != nil:
		return o.Flag.DefaultFrom()
	case s == FlagSide && o.Flag.Default != nil:
		return o.Flag.Default
	}
	return o.Default
}

// InputDefault is the input's default as the operation listing shows it:
// durations the short way ("2m", "1h"), empty for none.
func (o *Option) InputDefault() string {
	if o.Input.DefaultText != "" {
		return o.Input.DefaultText
	}
	switch v := o.DefaultOn(InputSide).(type) {
	case nil:
		return ""
	case time.Duration:
		return shortDuration(v)
	case float64:
		return strconv.FormatFloat(v, 'g', -1, 64)
	default:
		return fmt.Sprint(v)
	}
}

// shortDuration drops the zero units time.Duration.String keeps: 2m0s
// is 2m, 1h0m0s is 1h.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// Set is an ordered option set; each side lists the options it has, in
// this order.
type Set []Option

// Get returns the option keyed name; a name not in the set is a
// programming error.
func (s Set) Get(name string) *Option {
	for i := range s {
		if s[i].Key() == name {
			return &s[i]
		}
	}
	panic("runopts: no option " + name)
}

// On returns the options of sets that side has, in order.
func On(side Side, sets ...Set) []*Option {
	var out []*Option
	for _, s := range sets {
		for i := range s {
			if s[i].On(side) {
				out = append(out, &s[i])
			}
		}
	}
	return out
}
