package cloudify

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// DecodeValue decodes a JSON payload into plain Go values: string, bool,
// nil, int64 for integral numbers, float64 otherwise, map[string]any and
// []any. Integers stay integers so they round-trip through runtime
// properties unchanged (spec 2.4: "@3" stores integer 3).
func DecodeValue(raw []byte) (any, error) {
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return normalize(v), nil
}

func normalize(v any) any {
	switch t := v.(type) {
	case json.Number:
		if i, err := t.Int64(); err == nil && !strings.ContainsAny(t.String(), ".eE") {
			return i
		}
		f, _ := t.Float64()
		return f
	case map[string]any:
		for k, e := range t {
			t[k] = normalize(e)
		}
		return t
	case []any:
		for i, e := range t {
			t[i] = normalize(e)
		}
		return t
	default:
		return v
	}
}

// EncodeInput encodes a value the way script_runner exports an operation
// input into the environment (spec 1.3): strings unchanged, maps, lists and
// booleans as JSON, numbers as Python str(), null as the literal None.
func EncodeInput(v any) (string, error) {
	switch t := v.(type) {
	case nil:
		return "None", nil
	case string:
		return t, nil
	case bool, map[string]any, []any:
		// Python's json.dumps uses ", " and ": " separators; Go's compact form
		// decodes identically, and decoding is all a reader does.
		b, err := json.Marshal(t)
		if err != nil {
			return "", err
		}
		return string(b), nil
	case int, int64, int32:
		return fmt.Sprint(t), nil
	case float64:
		return pythonFloat(t), nil
	case float32:
		return pythonFloat(float64(t)), nil
	default:
		b, err := json.Marshal(t)
		if err != nil {
			return "", fmt.Errorf("unsupported input value %T", v)
		}
		return string(b), nil
	}
}

// pythonFloat renders like Python's str(float): always with a decimal point.
func pythonFloat(f float64) string {
	s := fmt.Sprint(f)
	if !strings.ContainsAny(s, ".eEn") { // n: NaN/Inf
		s += ".0"
	}
	return s
}
