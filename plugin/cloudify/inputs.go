package cloudify

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
	"time"
)

// Inputs reads operation inputs from the environment, where script_runner
// puts them (spec 1.3): one variable per input, named verbatim; strings as
// they are, maps/lists/booleans as JSON, numbers as text, null as "None".
// Lookup is injectable so tests and the local runner can use a map.
type Inputs struct {
	Lookup func(name string) (string, bool)
}

// EnvInputs returns Inputs backed by the process environment.
func EnvInputs() Inputs { return Inputs{Lookup: os.LookupEnv} }

// MapInputs returns Inputs backed by already-encoded values.
func MapInputs(m map[string]string) Inputs {
	return Inputs{Lookup: func(n string) (string, bool) { v, ok := m[n]; return v, ok }}
}

// Raw returns the encoded text of an input, with "None" and empty meaning unset.
func (in Inputs) Raw(name string) (string, bool) {
	if in.Lookup == nil {
		return "", false
	}
	v, ok := in.Lookup(name)
	if !ok || v == "None" || v == "" {
		return "", false
	}
	return v, true
}

// Has reports whether the input is set.
func (in Inputs) Has(name string) bool { _, ok := in.Raw(name); return ok }

// String returns a string input, or def when unset.
func (in Inputs) String(name, def string) string {
	if v, ok := in.Raw(name); ok {
		return v
	}
	return def
}

// Bool returns a boolean input. Booleans arrive as JSON true/false; "yes"
// and "no" are refused so a typo never flips a safety switch silently.
func (in Inputs) Bool(name string, def bool) (bool, error) {
	v, ok := in.Raw(name)
	if !ok {
		return def, nil
	}
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, fmt.Errorf("input %s: %q is not a boolean; use true or false", name, v)
}

// Int returns an integer input.
func (in Inputs) Int(name string, def int) (int, error) {
	v, ok := in.Raw(name)
	if !ok {
		return def, nil
	}
	i, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil {
		return 0, fmt.Errorf("input %s: %q is not an integer; use e.g. %d", name, v, def)
	}
	return i, nil
}

// Duration returns a duration input: a Go duration ("90s", "2m") or a
// number of seconds (Cloudify users often give 120).
func (in Inputs) Duration(name string, def time.Duration) (time.Duration, error) {
	v, ok := in.Raw(name)
	if !ok {
		return def, nil
	}
	return ParseDuration(name, v)
}

// maxDurationSeconds is the longest duration time.Duration holds, in seconds.
const maxDurationSeconds = float64(math.MaxInt64 / int64(time.Second))

// ParseDuration parses a Go duration or a plain number of seconds; the
// error names the field and shows the expected form.
func ParseDuration(field, v string) (time.Duration, error) {
	v = strings.TrimSpace(v)
	if secs, err := strconv.ParseFloat(v, 64); err == nil || errors.Is(err, strconv.ErrRange) {
		if secs < 0 {
			return 0, fmt.Errorf("%s: %q is negative; use e.g. 2m or 120", field, v)
		}
		// NaN, Inf and numbers beyond ~292 years would wrap to a negative
		// (or arbitrary) duration when converted.
		if math.IsNaN(secs) || secs > maxDurationSeconds {
			return 0, fmt.Errorf("%s: %q is not a usable number of seconds; use e.g. 2m or 120", field, v)
		}
		return time.Duration(secs * float64(time.Second)), nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("%s: %q is not a duration; use e.g. 2m or 120 (seconds)", field, v)
	}
	return d, nil
}

// Value returns an input decoded as JSON when it is JSON (maps, lists,
// booleans, numbers) and as a plain string otherwise.
func (in Inputs) Value(name string) (any, bool) {
	v, ok := in.Raw(name)
	if !ok {
		return nil, false
	}
	t := strings.TrimSpace(v)
	if strings.HasPrefix(t, "{") || strings.HasPrefix(t, "[") || t == "true" || t == "false" {
		if d, err := DecodeValue([]byte(t)); err == nil {
			return d, true
		}
	}
	return v, true
}

// Map returns a dict input (JSON object).
func (in Inputs) Map(name string) (map[string]any, error) {
	v, ok := in.Raw(name)
	if !ok {
		return nil, nil
	}
	d, err := DecodeValue([]byte(v))
	if m, isMap := d.(map[string]any); err == nil && isMap {
		return m, nil
	}
	return nil, fmt.Errorf("input %s: not a dict; give a mapping such as {key: value}", name)
}

// List returns a list input (JSON array). A plain string becomes a
// one-element list, a comma-separated string its elements.
func (in Inputs) List(name string) ([]any, error) {
	v, ok := in.Raw(name)
	if !ok {
		return nil, nil
	}
	t := strings.TrimSpace(v)
	if strings.HasPrefix(t, "[") {
		d, err := DecodeValue([]byte(t))
		if l, isList := d.([]any); err == nil && isList {
			return l, nil
		}
		return nil, fmt.Errorf("input %s: not a valid list; give e.g. [a, b]", name)
	}
	var out []any
	for _, p := range strings.Split(t, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out, nil
}

// Decode decodes a dict or list input into out (a pointer to a struct,
// map or slice) using JSON rules.
func (in Inputs) Decode(name string, out any) (bool, error) {
	v, ok := in.Raw(name)
	if !ok {
		return false, nil
	}
	if err := json.Unmarshal([]byte(v), out); err != nil {
		return true, fmt.Errorf("input %s: %v", name, err)
	}
	return true, nil
}
