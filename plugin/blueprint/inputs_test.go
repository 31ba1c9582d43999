package blueprint

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestResolveInputs(t *testing.T) {
	bp, err := Load("testdata/inputs/blueprint.yaml")
	if err != nil {
		t.Fatal(err)
	}
	defaults := map[string]any{
		"name": "chaos", "code": "abc", "port": 8080, "ratio": 0.5, "retries": 3, "env": "dev",
		"answer": 42, "debug": false, "tags": []any{"a"}, "extra": map[string]any{}, "target": nil, "anything": nil,
	}
	with := func(changes map[string]any) map[string]any {
		out := map[string]any{}
		for k, v := range defaults {
			out[k] = v
		}
		for k, v := range changes {
			out[k] = v
		}
		return out
	}
	tests := []struct {
		name    string
		given   map[string]any
		want    map[string]any
		wantErr string
	}{
		{name: "defaults fill what is not given", given: map[string]any{"name": "chaos"}, want: defaults},
		{
			name: "strings from the command line become typed values",
			given: map[string]any{"name": "chaos", "port": "443", "ratio": "0.25", "debug": "True",
				"tags": "[x, y]", "extra": `{"a": 1}`, "retries": "10"},
			want: with(map[string]any{"port": 443, "ratio": 0.25, "debug": true, "tags": []any{"x", "y"},
				"extra": map[string]any{"a": 1}, "retries": 10}),
		},
		{name: "a whole number read from JSON is an integer", given: map[string]any{"name": "chaos", "port": 443.0}, want: with(map[string]any{"port": 443})},
		{name: "an integer given to a float input stays an integer", given: map[string]any{"name": "chaos", "ratio": 0}, want: with(map[string]any{"ratio": 0})},
		{name: "intrinsic functions are kept for Evaluate", given: map[string]any{"name": "chaos", "extra": map[string]any{"get_secret": "s"}},
			want: with(map[string]any{"extra": map[string]any{"get_secret": "s"}})},
		{name: "a missing required input says how to fix it", given: map[string]any{},
			wantErr: `input "name" is required and has no default: give a value of type string`},
		{name: "an undeclared input is named with the closest declared one", given: map[string]any{"name": "chaos", "prot": 1},
			wantErr: `input "prot" is not declared by the blueprint (did you mean "port"? valid: answer, anything, code, debug, env, extra, name, port, ratio, retries, tags, target)`},
		{name: "a non-integer is refused", given: map[string]any{"name": "chaos", "port": "abc"}, wantErr: `input "port": "abc" is not an integer`},
		{name: "a float is not an integer", given: map[string]any{"name": "chaos", "port": 80.5}, wantErr: `input "port": 80.5 is not an integer`},
		{name: "a non-number is refused for a float", given: map[string]any{"name": "chaos", "ratio": "half"}, wantErr: `input "ratio": "half" is not a number`},
		{name: "a non-boolean is refused", given: map[string]any{"name": "chaos", "debug": "yes"}, wantErr: `input "debug": "yes" is not a boolean (true or false)`},
		{name: "a non-list is refused", given: map[string]any{"name": "chaos", "tags": "x"}, wantErr: `input "tags": "x" is not a list (e.g. [a, b])`},
		{name: "list items are checked against item_type", given: map[string]any{"name": "chaos", "tags": []any{"a", 1}}, wantErr: `input "tags": item 1: 1 is not a string`},
		{name: "a non-mapping is refused", given: map[string]any{"name": "chaos", "extra": "[1]"}, wantErr: `input "extra": "[1]" is not a mapping (e.g. {a: 1})`},
		{name: "a number is not a string", given: map[string]any{"name": 5}, wantErr: `input "name": 5 is not a string`},
		{name: "string-like 1_5 types take strings", given: map[string]any{"name": "chaos", "target": 3}, wantErr: `input "target": 3 is not a string`},
		{name: "pattern matches from the start like Python's re.match", given: map[string]any{"name": "9lives"}, wantErr: `input "name": "9lives" does not match pattern "[a-z]+"`},
		{name: "min_length", given: map[string]any{"name": "a"}, wantErr: `input "name": "a" has length 1, want at least 2`},
		{name: "max_length", given: map[string]any{"name": "abcdefghi"}, wantErr: `input "name": "abcdefghi" has length 9, want at most 8`},
		{name: "length", given: map[string]any{"name": "chaos", "code": "ab"}, wantErr: `input "code": "ab" has length 2, want exactly 3`},
		{name: "in_range", given: map[string]any{"name": "chaos", "port": 70000}, wantErr: `input "port": 70000 is not in range [1, 65535]`},
		{name: "greater_or_equal", given: map[string]any{"name": "chaos", "ratio": -0.5}, wantErr: `input "ratio": -0.5 is not greater than or equal to 0`},
		{name: "less_than", given: map[string]any{"name": "chaos", "ratio": 1}, wantErr: `input "ratio": 1 is not less than 1`},
		{name: "greater_than", given: map[string]any{"name": "chaos", "retries": 0}, wantErr: `input "retries": 0 is not greater than 0`},
		{name: "less_or_equal", given: map[string]any{"name": "chaos", "retries": 11}, wantErr: `input "retries": 11 is not less than or equal to 10`},
		{name: "valid_values", given: map[string]any{"name": "chaos", "env": "qa"}, wantErr: `input "env": "qa" is not one of the valid values ["dev","prod"]`},
		{name: "equal uses the constraint's error_message", given: map[string]any{"name": "chaos", "answer": 41}, wantErr: `input "answer": the answer is always 42 (got 41)`},
		{name: "constraints apply to each item of a typed list", given: map[string]any{"name": "chaos", "tags": []any{"abcdef"}}, wantErr: `input "tags": "abcdef" has length 6, want at most 5`},
		{name: "a function in an input with constraints is refused", given: map[string]any{"name": map[string]any{"get_secret": "n"}},
			wantErr: `input "name": {"get_secret":"n"} holds an intrinsic function, which an input with constraints cannot`},
		{
			name:  "every problem is reported at once",
			given: map[string]any{"port": "x", "zzz": 1},
			wantErr: strings.Join([]string{`input "name" is required and has no default: give a value of type string`,
				`input "port": "x" is not an integer`, `input "zzz" is not declared by the blueprint (valid: `}, "\n"),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := bp.ResolveInputs(tt.given)
			if tt.wantErr != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tt.wantErr) {
					t.Fatalf("error:\n%v\nwant prefix:\n%s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Error(diff)
			}
		})
	}
}

func TestResolveParameters(t *testing.T) {
	bp, err := Load("testdata/inputs/blueprint.yaml")
	if err != nil {
		t.Fatal(err)
	}
	w := bp.Workflows["Chaos"]
	t.Run("defaults apply and strings are converted", func(t *testing.T) {
		got, err := w.ResolveParameters(map[string]any{"duration": "30"})
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]any{"operation": "chaos_actions.run", "duration": 30, "node_ids": []any{}}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Error(diff)
		}
	})
	t.Run("errors name the parameter and the workflow", func(t *testing.T) {
		_, err := w.ResolveParameters(map[string]any{"node_id": []any{}})
		want := `parameter "duration" is required and has no default: give a value of type integer` + "\n" +
			`parameter "node_id" is not declared by workflow "Chaos" (did you mean "node_ids"?`
		if err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Fatalf("error:\n%v\nwant prefix:\n%s", err, want)
		}
	})
	t.Run("built-in execute_operation requires its operation", func(t *testing.T) {
		_, err := bp.Workflows["execute_operation"].ResolveParameters(nil)
		if err == nil || err.Error() != `parameter "operation" is required and has no default: give a value` {
			t.Fatalf("got %v", err)
		}
	})
}
