package local

import (
	"encoding/json"

	"github.com/cloudify-chaos/chaosops/plugin/yamllimit"
)

// decodeStructured parses a JSON or YAML string into plain values.
func decodeStructured(s string) (any, error) {
	var v any
	if err := json.Unmarshal([]byte(s), &v); err == nil {
		return v, nil
	}
	if err := yamllimit.Unmarshal("value", []byte(s), &v); err != nil {
		return nil, err
	}
	return v, nil
}

// deepCopy copies maps and lists so state never aliases a caller's value.
func deepCopy(v any) any {
	switch t := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, e := range t {
			out[k] = deepCopy(e)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = deepCopy(e)
		}
		return out
	}
	return v
}
