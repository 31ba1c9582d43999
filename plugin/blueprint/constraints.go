package blueprint

import (
	"fmt"
	"regexp"
	"slices"
	"unicode/utf8"
)

// Constraint is one entry of an input's constraints list. Op is one of
// equal, valid_values, in_range, greater_than, greater_or_equal, less_than,
// less_or_equal, length, min_length, max_length, pattern.
type Constraint struct {
	Op  string
	Arg any
	// ErrorMessage replaces the generated message when the value fails.
	ErrorMessage string
	Pos          Pos

	re *regexp.Regexp
}

var constraintOps = []string{
	"equal", "valid_values", "in_range", "greater_than", "greater_or_equal", "less_than",
	"less_or_equal", "length", "min_length", "max_length", "pattern",
}

// Constraints of cloudify_dsl_1_5 that query the manager.
var managerConstraintOps = []string{"filter_id", "labels", "tenants", "name_pattern", "deployment_id"}

// newConstraint checks a constraint's argument.
func newConstraint(op string, arg any) (*Constraint, error) {
	c := &Constraint{Op: op, Arg: arg}
	if _, _, isCall := call(arg); isCall {
		return nil, fmt.Errorf("%s: intrinsic functions as constraint arguments are not supported", op)
	}
	switch op {
	case "equal", "greater_than", "greater_or_equal", "less_than", "less_or_equal":
		if _, ok := number(arg); !ok {
			return nil, fmt.Errorf("%s: the argument must be a number, got %s", op, show(arg))
		}
	case "length", "min_length", "max_length":
		if n, ok := arg.(int); !ok || n < 0 {
			return nil, fmt.Errorf("%s: the argument must be a non-negative integer, got %s", op, show(arg))
		}
	case "in_range":
		l, ok := arg.([]any)
		if ok && len(l) == 2 {
			_, ok1 := number(l[0])
			_, ok2 := number(l[1])
			ok = ok1 && ok2
		}
		if !ok || len(l) != 2 {
			return nil, fmt.Errorf("%s: the argument must be a list of two numbers [min, max], got %s", op, show(arg))
		}
	case "valid_values":
		if _, ok := arg.([]any); !ok {
			return nil, fmt.Errorf("%s: the argument must be a list, got %s", op, show(arg))
		}
	case "pattern":
		s, ok := arg.(string)
		if !ok {
			return nil, fmt.Errorf("%s: the argument must be a regular expression string, got %s", op, show(arg))
		}
		// Python's re.match anchors at the start only; so do we.
		re, err := regexp.Compile(`^(?:` + s + `)`)
		if err != nil {
			return nil, fmt.Errorf("%s: %q is not a regular expression Go (RE2) accepts: %v", op, s, err)
		}
		c.re = re
	default:
		return nil, fmt.Errorf("unknown constraint %q", op)
	}
	return c, nil
}

// Check returns an error saying what is wrong when v violates the constraint.
func (c *Constraint) Check(v any) error {
	msg := c.violation(v)
	switch {
	case msg == "":
		return nil
	case c.ErrorMessage != "":
		return fmt.Errorf("%s (got %s)", c.ErrorMessage, show(v))
	}
	return fmt.Errorf("%s", msg)
}

func (c *Constraint) violation(v any) string {
	switch c.Op {
	case "equal":
		if !equalValues(v, c.Arg) {
			return fmt.Sprintf("%s is not equal to %s", show(v), show(c.Arg))
		}
	case "valid_values":
		if !slices.ContainsFunc(c.Arg.([]any), func(x any) bool { return equalValues(v, x) }) {
			return fmt.Sprintf("%s is not one of the valid values %s", show(v), show(c.Arg))
		}
	case "in_range":
		l := c.Arg.([]any)
		x, ok := number(v)
		lo, _ := number(l[0])
		hi, _ := number(l[1])
		if !ok {
			return fmt.Sprintf("%s is not a number; in_range needs one", show(v))
		}
		if x < lo || x > hi {
			return fmt.Sprintf("%s is not in range [%s, %s]", show(v), show(l[0]), show(l[1]))
		}
	case "greater_than", "greater_or_equal", "less_than", "less_or_equal":
		return c.compare(v)
	case "length", "min_length", "max_length":
		return c.length(v)
	case "pattern":
		s, ok := v.(string)
		if !ok {
			return fmt.Sprintf("%s is not a string; pattern needs one", show(v))
		}
		if !c.re.MatchString(s) {
			return fmt.Sprintf("%s does not match pattern %q", show(v), c.Arg)
		}
	}
	return ""
}

func (c *Constraint) compare(v any) string {
	x, ok := number(v)
	if !ok {
		return fmt.Sprintf("%s is not a number; %s needs one", show(v), c.Op)
	}
	y, _ := number(c.Arg)
	var good bool
	var want string
	switch c.Op {
	case "greater_than":
		good, want = x > y, "greater than"
	case "greater_or_equal":
		good, want = x >= y, "greater than or equal to"
	case "less_than":
		good, want = x < y, "less than"
	case "less_or_equal":
		good, want = x <= y, "less than or equal to"
	}
	if good {
		return ""
	}
	return fmt.Sprintf("%s is not %s %s", show(v), want, show(c.Arg))
}

func (c *Constraint) length(v any) string {
	var n int
	switch x := v.(type) {
	case string:
		n = utf8.RuneCountInString(x)
	case []any:
		n = len(x)
	case map[string]any:
		n = len(x)
	default:
		return fmt.Sprintf("%s has no length; %s needs a string, list or mapping", show(v), c.Op)
	}
	want := c.Arg.(int)
	switch {
	case c.Op == "length" && n != want:
		return fmt.Sprintf("%s has length %d, want exactly %d", show(v), n, want)
	case c.Op == "min_length" && n < want:
		return fmt.Sprintf("%s has length %d, want at least %d", show(v), n, want)
	case c.Op == "max_length" && n > want:
		return fmt.Sprintf("%s has length %d, want at most %d", show(v), n, want)
	}
	return ""
}
