package api

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// FieldError is one problem in an object, with the field it is in and how
// to fix it.
type FieldError struct {
	// Field is the JSON path of the field, e.g. "spec.value".
	Field string
	// Problem says what is wrong, quoting the value.
	Problem string
	// Fix says what to write instead.
	Fix string
}

// Error formats e as `field: problem; fix`.
func (e FieldError) Error() string { return e.Field + ": " + e.Problem + "; " + e.Fix }

// InvalidError is returned by Validate: the object cannot be created as it
// is. It is invalid input (failure.Invalid), never retried; callers read
// Fields with errors.As.
type InvalidError struct {
	// Fields lists the problems in field order.
	Fields []FieldError
}

// Error lists the problems, one per line.
func (e *InvalidError) Error() string {
	lines := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		lines[i] = f.Error()
	}
	return strings.Join(lines, "\n")
}

// Invalid reports true: the object must change before it can be created.
func (e *InvalidError) Invalid() bool { return true }

// Validate checks the parts of o that chaosops generates: the kind, the
// selector's mode and value, the duration and the kind-specific rules (for
// HTTPChaos the target, port and actions). It returns an *InvalidError
// naming every bad field and its fix, or nil. It does not repeat every
// check of the API server's schema.
func (o *Object) Validate() error {
	v := &validator{}
	k, known := KindNamed(o.Kind)
	switch {
	case o.Kind == "":
		v.add("kind", "missing", "set one of "+strings.Join(KindNames(), ", "))
	case !known:
		v.add("kind", quote(o.Kind)+" is not a chaos kind this plugin supports", "use one of "+strings.Join(KindNames(), ", "))
	}
	if o.APIVersion != "" && o.APIVersion != GroupVersion.String() {
		v.add("apiVersion", quote(o.APIVersion)+" is not "+GroupVersion.String(), "set apiVersion: "+GroupVersion.String())
	}
	if o.Name == "" && o.GenerateName == "" {
		v.add("metadata.name", "missing", "set metadata.name or metadata.generateName")
	}
	switch {
	case o.Spec == nil:
		v.add("spec", "missing", strings.Join(strings.Fields("set the "+o.Kind+" spec"), " "))
	case known && o.Spec.Kind() != k.Name:
		v.add("spec", "is a "+o.Spec.Kind()+" spec in a "+k.Name, "use a "+k.Name+"Spec or set kind: "+o.Spec.Kind())
	default:
		v.duration("spec.duration", o.Spec.Common().Duration)
		o.Spec.validate(v)
	}
	return v.err()
}

// validator collects FieldErrors.
type validator struct{ errs []FieldError }

func (v *validator) add(field, problem, fix string) {
	v.errs = append(v.errs, FieldError{Field: field, Problem: problem, Fix: fix})
}

func (v *validator) err() error {
	if len(v.errs) == 0 {
		return nil
	}
	return &InvalidError{Fields: v.errs}
}

func quote(s string) string { return strconv.Quote(s) }

// podSelector checks mode and value; path is where the selector sits
// ("spec" or "spec.target").
func (v *validator) podSelector(path string, s *PodSelector) {
	modes := make([]string, len(Modes))
	for i, m := range Modes {
		modes[i] = string(m)
	}
	choices := strings.Join(modes, ", ")
	switch s.Mode {
	case "":
		v.add(path+".mode", "missing", "set one of "+choices)
		return
	case ModeOne, ModeAll:
		if s.Value != "" {
			v.add(path+".value", quote(s.Value)+" has no effect with mode "+string(s.Mode),
				"remove it, or use mode fixed, fixed-percent or random-max-percent")
		}
		return
	case ModeFixed:
		n, err := strconv.Atoi(s.Value)
		if err != nil || n < 1 {
			v.add(path+".value", valueProblem(s.Value, "a whole number of pods of at least 1"),
				`mode fixed needs how many pods to affect, e.g. value: "2"`)
		}
	case ModeFixedPercent, ModeRandomMaxPercent:
		n, err := strconv.Atoi(s.Value)
		if err != nil || n < 1 || n > 100 {
			v.add(path+".value", valueProblem(s.Value, "a percentage from 1 to 100"),
				"mode "+string(s.Mode)+` needs a percentage of the pods, e.g. value: "50"`)
		}
	default:
		v.add(path+".mode", quote(string(s.Mode))+" is not a mode", "use one of "+choices)
	}
}

func valueProblem(value, want string) string {
	if value == "" {
		return "missing"
	}
	return quote(value) + " is not " + want
}

// duration checks an optional duration that must be positive.
func (v *validator) duration(path string, d *string) {
	if d == nil {
		return
	}
	v.positiveDuration(path, *d, "or leave it out to run until deleted")
}

func (v *validator) positiveDuration(path, s, alternative string) {
	d, err := time.ParseDuration(s)
	switch {
	case s == "":
		v.add(path, "is empty", `set a duration such as "30s" or "5m", `+alternative)
	case err != nil:
		v.add(path, quote(s)+" is not a duration", `use e.g. "30s" or "5m"`)
	case d <= 0:
		v.add(path, quote(s)+" is not positive", `use e.g. "30s" or "5m"`)
	}
}

// enum checks that a required value is one of allowed.
func (v *validator) enum(path, value string, allowed ...string) {
	switch {
	case value == "":
		v.add(path, "missing", "set one of "+strings.Join(allowed, ", "))
	case !slices.Contains(allowed, value):
		v.add(path, quote(value)+" is not supported", "use one of "+strings.Join(allowed, ", "))
	}
}

// required reports a missing required string field.
func (v *validator) required(path, value, fix string) {
	if value == "" {
		v.add(path, "missing", fix)
	}
}

// between reports a number outside [lo, hi].
func (v *validator) between(path string, n, lo, hi int64, fix string) {
	if n < lo || n > hi {
		v.add(path, fmt.Sprintf("%d is not between %d and %d", n, lo, hi), fix)
	}
}
