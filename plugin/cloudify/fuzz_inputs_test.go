package cloudify

import (
	"strings"
	"testing"
)

// FuzzInputs gives one operation input an arbitrary value, as a blueprint
// (or a typo in one) can: every typed reader must either accept it with a
// sane result or fail with an error that names the input, and never panic.
// Seeds: testdata/fuzz/FuzzInputs.
func FuzzInputs(f *testing.F) {
	for _, s := range []string{"2m", "120", "-1", "1e300", "NaN", "true", "None", "", "[a, b", `["a",1]`, `{"k":"v"}`, "a,b,,c", "{", "9223372036854775807"} {
		f.Add(s)
	}
	const name = "fuzzed_input"
	f.Fuzz(func(t *testing.T, v string) {
		in := MapInputs(map[string]string{name: v})
		named := func(what string, err error) {
			t.Helper()
			if err != nil && !strings.Contains(err.Error(), name) {
				t.Fatalf("%s(%q): error %q does not name the input", what, v, err)
			}
		}
		_, err := in.Bool(name, false)
		named("Bool", err)
		_, err = in.Int(name, 1)
		named("Int", err)
		d, err := in.Duration(name, 0)
		named("Duration", err)
		if err == nil && d < 0 {
			t.Fatalf("Duration(%q) = %s: a negative duration was accepted", v, d)
		}
		_, err = in.List(name)
		named("List", err)
		_, err = in.Map(name)
		named("Map", err)
		in.Value(name)
		var into struct {
			Path string         `json:"path"`
			Code int            `json:"code"`
			Hdrs map[string]any `json:"headers"`
		}
		_, err = in.Decode(name, &into)
		named("Decode", err)
	})
}
