package local

import (
	"reflect"
	"testing"
)

func TestMergeChangesKeepsWhatOthersWrote(t *testing.T) {
	for _, tc := range []struct {
		name                   string
		current, before, after map[string]any
		want                   map[string]any
	}{
		{"a new key is added beside another execution's",
			map[string]any{"a": 1, "other": "x"}, map[string]any{"a": 1}, map[string]any{"a": 1, "b": 2},
			map[string]any{"a": 1, "b": 2, "other": "x"}},
		{"a changed key takes the operation's value",
			map[string]any{"a": 1}, map[string]any{"a": 1}, map[string]any{"a": 3},
			map[string]any{"a": 3}},
		{"an unchanged key keeps what another execution wrote since",
			map[string]any{"a": "theirs"}, map[string]any{"a": "old"}, map[string]any{"a": "old"},
			map[string]any{"a": "theirs"}},
		{"a removed key goes",
			map[string]any{"a": 1, "b": 2}, map[string]any{"a": 1, "b": 2}, map[string]any{"a": 1},
			map[string]any{"a": 1}},
		{"nested values compare deeply",
			map[string]any{"m": map[string]any{"k": "v"}, "o": 1}, map[string]any{"m": map[string]any{"k": "v"}}, map[string]any{"m": map[string]any{"k": "v"}},
			map[string]any{"m": map[string]any{"k": "v"}, "o": 1}},
		{"nil current", nil, nil, map[string]any{"a": 1}, map[string]any{"a": 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := mergeChanges(tc.current, tc.before, tc.after); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("mergeChanges = %v, want %v", got, tc.want)
			}
		})
	}
}
