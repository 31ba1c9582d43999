package scriptrunner

import (
	"fmt"
	"strconv"
	"strings"
)

// The context is modelled as the three kinds of thing the real proxy walks
// (spec 2.2): objects with attributes, dict-likes addressed by dotted paths,
// and callables.
type attrs map[string]any

type dictLike struct{ m *map[string]any }

type callable func(args []any, kwargs map[string]any) (any, error)

// evalError becomes {"type":"error"} with the given exception class.
type evalError struct{ class, msg string }

func (e *evalError) Error() string { return e.class + ": " + e.msg }

func walk(root attrs, args []any) (any, error) {
	var cur any = root
	for i := 0; i < len(args); i++ {
		switch c := cur.(type) {
		case attrs:
			name, ok := args[i].(string)
			if !ok {
				return nil, &evalError{"RuntimeError", fmt.Sprintf("%v is not an attribute name", args[i])}
			}
			v, found := c[name]
			if !found {
				v, found = c[strings.ReplaceAll(name, "-", "_")]
			}
			if !found {
				return nil, &evalError{"RuntimeError", fmt.Sprintf("%s cannot be processed in %v", name, args)}
			}
			cur = v
		case dictLike:
			rest := args[i:]
			path, ok := rest[0].(string)
			if !ok {
				return nil, &evalError{"RuntimeError", "a dict path must be a string"}
			}
			switch len(rest) {
			case 1:
				return getPath(*c.m, path)
			case 2:
				return nil, setPath(*c.m, path, rest[1])
			default:
				return nil, &evalError{"RuntimeError", fmt.Sprintf("too many arguments for a dict: %d", len(rest))}
			}
		case callable:
			return call(c, args[i:])
		default:
			return nil, &evalError{"RuntimeError", fmt.Sprintf("%v cannot be processed in %v", args[i], args)}
		}
	}
	switch c := cur.(type) {
	case callable:
		return c(nil, nil)
	case dictLike:
		return *c.m, nil
	case attrs:
		return nil, &evalError{"RuntimeError", fmt.Sprintf("%v is not a value", args)}
	}
	return cur, nil
}

// call applies rule 2.2-3: a trailing JSON object becomes keyword arguments.
func call(f callable, rest []any) (any, error) {
	if n := len(rest); n > 0 {
		if kw, ok := rest[n-1].(map[string]any); ok {
			return f(rest[:n-1], kw)
		}
	}
	return f(rest, nil)
}

type pathStep struct {
	key   string
	index int // -1 for a map key
}

func parsePath(p string) ([]pathStep, error) {
	var steps []pathStep
	for _, part := range strings.Split(p, ".") {
		name, idx, hasIdx := strings.Cut(part, "[")
		if name == "" {
			return nil, &evalError{"RuntimeError", "illegal path: " + p}
		}
		steps = append(steps, pathStep{key: name, index: -1})
		for hasIdx {
			num, rest, ok := strings.Cut(idx, "]")
			n, err := strconv.Atoi(num)
			if !ok || err != nil {
				return nil, &evalError{"RuntimeError", "illegal path: " + p}
			}
			steps = append(steps, pathStep{index: n})
			_, idx, hasIdx = strings.Cut(rest, "[")
		}
	}
	return steps, nil
}

func getPath(m map[string]any, p string) (any, error) {
	steps, err := parsePath(p)
	if err != nil {
		return nil, err
	}
	var cur any = m
	for _, s := range steps {
		switch c := cur.(type) {
		case map[string]any:
			v, ok := c[s.key]
			if s.index >= 0 || !ok {
				return nil, &evalError{"RuntimeError", "illegal path: " + p}
			}
			cur = v
		case []any:
			if s.index < 0 || s.index >= len(c) {
				return nil, &evalError{"RuntimeError", "illegal path: " + p}
			}
			cur = c[s.index]
		default:
			return nil, &evalError{"RuntimeError", "illegal path: " + p}
		}
	}
	return cur, nil
}

func setPath(m map[string]any, p string, v any) error {
	steps, err := parsePath(p)
	if err != nil {
		return err
	}
	cur := m
	for i, s := range steps {
		if s.index >= 0 {
			return &evalError{"RuntimeError", "illegal path: " + p + " (the stand-in sets map keys only)"}
		}
		if i == len(steps)-1 {
			cur[s.key] = v
			return nil
		}
		next, ok := cur[s.key].(map[string]any)
		if !ok {
			next = map[string]any{} // missing parents are created (spec 2.4)
			cur[s.key] = next
		}
		cur = next
	}
	return nil
}
