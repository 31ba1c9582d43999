package blueprint

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
)

// show formats a value for an error message: strings quoted, the rest as
// compact JSON.
func show(v any) string {
	if s, ok := v.(string); ok {
		return strconv.Quote(s)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// deepCopy copies maps and lists so that callers may change the result.
func deepCopy(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, item := range x {
			m[k] = deepCopy(item)
		}
		return m
	case []any:
		l := make([]any, len(x))
		for i, item := range x {
			l[i] = deepCopy(item)
		}
		return l
	}
	return v
}

// Lookup follows path (mapping keys and list indexes) into v. It is what
// get_property, get_attribute and get_input use for their nested keys.
func Lookup(v any, path []any) (any, error) {
	cur := v
	for i, p := range path {
		switch x := cur.(type) {
		case map[string]any:
			key, ok := p.(string)
			if !ok {
				return nil, fmt.Errorf("%s is a mapping: key %s must be a string", pathText(path[:i]), show(p))
			}
			next, found := x[key]
			if !found {
				return nil, fmt.Errorf("%s has no key %q", pathText(path[:i]), key)
			}
			cur = next
		case []any:
			idx, ok := p.(int)
			if !ok {
				return nil, fmt.Errorf("%s is a list: index %s must be an integer", pathText(path[:i]), show(p))
			}
			if idx < 0 || idx >= len(x) {
				return nil, fmt.Errorf("%s has %d items: index %d is out of range", pathText(path[:i]), len(x), idx)
			}
			cur = x[idx]
		default:
			return nil, fmt.Errorf("%s is %s, not a mapping or list: cannot look up %s", pathText(path[:i]), show(cur), show(p))
		}
	}
	return cur, nil
}

func pathText(path []any) string {
	if len(path) == 0 {
		return "the value"
	}
	var b strings.Builder
	for _, p := range path {
		if i, ok := p.(int); ok {
			fmt.Fprintf(&b, "[%d]", i)
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		fmt.Fprint(&b, p)
	}
	return b.String()
}

// number returns v as float64 when it is an int or a float.
func number(v any) (float64, bool) {
	switch x := v.(type) {
	case int:
		return float64(x), true
	case float64:
		return x, true
	}
	return 0, false
}

// equalValues compares like Python's ==: 1 == 1.0, otherwise deep equality.
func equalValues(a, b any) bool {
	if x, ok := number(a); ok {
		y, ok := number(b)
		return ok && x == y
	}
	return reflect.DeepEqual(a, b)
}

// pyString formats a scalar as Python's str() does, which is what concat
// produces on a manager.
func pyString(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case nil:
		return "None", true
	case bool:
		if x {
			return "True", true
		}
		return "False", true
	case int:
		return strconv.Itoa(x), true
	case float64:
		return pyFloat(x), true
	}
	return "", false
}

func pyFloat(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	case math.IsNaN(f):
		return "nan"
	}
	if a := math.Abs(f); a != 0 && (a >= 1e16 || a < 1e-4) {
		return strconv.FormatFloat(f, 'e', -1, 64)
	}
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.ContainsAny(s, ".") {
		s += ".0"
	}
	return s
}
