package cloudify

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestEncodeInputFollowsScriptRunner(t *testing.T) {
	cases := []struct {
		name string
		in   any
		want string
	}{
		{"a string is unchanged, without quotes", "hello world", "hello world"},
		{"null becomes Python's None", nil, "None"},
		{"true is JSON", true, "true"},
		{"an integer is its text", int64(8080), "8080"},
		{"a float keeps its decimal point like Python str()", float64(2), "2.0"},
		{"a map is JSON", map[string]any{"a": []any{int64(1), "x"}}, `{"a":[1,"x"]}`},
		{"a list is JSON", []any{"a", false}, `["a",false]`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := EncodeInput(tc.in)
			if err != nil || got != tc.want {
				t.Fatalf("EncodeInput(%v) = %q, %v; want %q", tc.in, got, err, tc.want)
			}
		})
	}
}

func TestDecodeValueKeepsIntegers(t *testing.T) {
	got, err := DecodeValue([]byte(`{"n": 3, "f": 1.5, "e": 1e3, "l": [1, {"b": null}]}`))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"n": int64(3), "f": 1.5, "e": float64(1000), "l": []any{int64(1), map[string]any{"b": nil}}}
	if d := cmp.Diff(want, got); d != "" {
		t.Fatalf("(-want +got):\n%s", d)
	}
}

func TestInputs(t *testing.T) {
	in := MapInputs(map[string]string{
		"s": "text", "none": "None", "empty": "", "b": "true", "badb": "yes",
		"i": "42", "badi": "4x", "d": "90s", "secs": "120", "badd": "2x",
		"m": `{"k": [1, 2]}`, "badm": "[1]", "l": `["a", "b"]`, "csv": "a, b ,c",
	})
	t.Run("None and empty mean unset", func(t *testing.T) {
		if in.Has("none") || in.Has("empty") || in.String("none", "def") != "def" {
			t.Fatal("None or empty treated as set")
		}
	})
	t.Run("typed getters parse and name the field on error", func(t *testing.T) {
		if b, err := in.Bool("b", false); err != nil || !b {
			t.Errorf("Bool = %v, %v", b, err)
		}
		if _, err := in.Bool("badb", false); err == nil || !strings.Contains(err.Error(), "input badb") {
			t.Errorf("Bool(badb) err = %v", err)
		}
		if i, err := in.Int("i", 0); err != nil || i != 42 {
			t.Errorf("Int = %v, %v", i, err)
		}
		if _, err := in.Int("badi", 7); err == nil || !strings.Contains(err.Error(), "input badi") {
			t.Errorf("Int(badi) err = %v", err)
		}
		if d, err := in.Duration("d", 0); err != nil || d != 90*time.Second {
			t.Errorf("Duration = %v, %v", d, err)
		}
		if d, err := in.Duration("secs", 0); err != nil || d != 2*time.Minute {
			t.Errorf("Duration(secs) = %v, %v", d, err)
		}
		if _, err := in.Duration("badd", 0); err == nil || !strings.Contains(err.Error(), `badd: "2x" is not a duration`) {
			t.Errorf("Duration(badd) err = %v", err)
		}
		if m, err := in.Map("m"); err != nil || cmp.Diff(map[string]any{"k": []any{int64(1), int64(2)}}, m) != "" {
			t.Errorf("Map = %v, %v", m, err)
		}
		if _, err := in.Map("badm"); err == nil || !strings.Contains(err.Error(), "input badm: not a dict") {
			t.Errorf("Map(badm) err = %v", err)
		}
		if l, err := in.List("l"); err != nil || len(l) != 2 {
			t.Errorf("List = %v, %v", l, err)
		}
		if l, err := in.List("csv"); err != nil || cmp.Diff([]any{"a", "b", "c"}, l) != "" {
			t.Errorf("List(csv) = %v, %v", l, err)
		}
	})
}
