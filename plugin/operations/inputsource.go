package operations

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/cloudify-chaos/chaosops/plugin/cloudify"
	"github.com/cloudify-chaos/chaosops/plugin/cloudify/operation"
	"github.com/cloudify-chaos/chaosops/plugin/failure"
	"github.com/cloudify-chaos/chaosops/plugin/runopts"
)

// specInputs are the operation inputs of option sets, in order.
func specInputs(sets ...runopts.Set) []operation.Input {
	var out []operation.Input
	for _, o := range runopts.On(runopts.InputSide, sets...) {
		out = append(out, operation.Input{Name: o.Input.Name, Description: o.Input.Description, Default: o.InputDefault(), Sensitive: o.Sensitive})
	}
	return out
}

// inputSource is the runopts.Source of an operation's inputs; its errors
// begin "input <name>:" or "<name>:" as cloudify.Inputs words them.
type inputSource struct{ in cloudify.Inputs }

func (inputSource) Side() runopts.Side { return runopts.InputSide }

// def is o's default on the input side, as T (the zero T for none).
func def[T any](o *runopts.Option) T {
	v, _ := o.DefaultOn(runopts.InputSide).(T)
	return v
}

func (s inputSource) String(o *runopts.Option) string {
	return s.in.String(o.Input.Name, def[string](o))
}

func (s inputSource) Bool(o *runopts.Option) (bool, error) {
	return s.in.Bool(o.Input.Name, def[bool](o))
}

func (s inputSource) Int(o *runopts.Option) (int, error) {
	return s.in.Int(o.Input.Name, def[int](o))
}

func (s inputSource) Float(o *runopts.Option) (float64, error) {
	v, ok := s.in.Raw(o.Input.Name)
	if !ok {
		return def[float64](o), nil
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil {
		return 0, fmt.Errorf("input %s: %q is not a number", o.Input.Name, v)
	}
	return f, nil
}

func (s inputSource) Duration(o *runopts.Option) (time.Duration, error) {
	return s.in.Duration(o.Input.Name, def[time.Duration](o))
}

func (s inputSource) List(o *runopts.Option) ([]string, error) {
	l, err := s.in.List(o.Input.Name)
	out := make([]string, 0, len(l))
	for _, v := range l {
		out = append(out, fmt.Sprint(v))
	}
	return out, err
}

// Ports reads a list of ports, given as numbers or text.
func (s inputSource) Ports(o *runopts.Option) ([]int, error) {
	l, err := s.List(o)
	errs := []error{err}
	var ports []int
	for _, p := range l {
		var n int
		if _, perr := fmt.Sscan(p, &n); perr != nil {
			errs = append(errs, fmt.Errorf("input %s: %q is not a port", o.Input.Name, p))
		}
		ports = append(ports, n)
	}
	return ports, errors.Join(errs...)
}

func (s inputSource) Value(o *runopts.Option) any {
	if v, ok := s.in.Value(o.Input.Name); ok {
		return v
	}
	return o.DefaultOn(runopts.InputSide)
}

func (s inputSource) Decode(o *runopts.Option, out any) error {
	_, err := s.in.Decode(o.Input.Name, out)
	return err
}

func (s inputSource) Text(o *runopts.Option) (string, bool, error) {
	v, ok := s.in.Raw(o.Input.Name)
	return v, ok, nil
}

// Invalid returns err: the domain's errors already name the input.
func (inputSource) Invalid(o *runopts.Option, err error) error {
	// Most errors name their input already (cloudify.Inputs, the domain's
	// checks); a parser's (probes) does not.
	if o == nil || o.Input.Name == "" || strings.Contains(err.Error(), o.Input.Name) {
		return err
	}
	return &failure.InvalidError{Field: o.Input.Name, Err: err}
}
