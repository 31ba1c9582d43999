package commands

import (
	"slices"
	"strings"
	"testing"
)

func TestUnsplitJoinsWhatTheCommaSplit(t *testing.T) {
	for _, tc := range []struct {
		name  string
		given string // what the user typed, before urfave/cli split it at commas
		want  []string
	}{
		{"pairs stay apart", "a=1,b=2", []string{"a=1", "b=2"}},
		{"a flow mapping", "k={a: 1, b: 2}", []string{"k={a: 1, b: 2}"}},
		{"a flow list then a pair", "k=[x, y],z=1", []string{"k=[x, y]", "z=1"}},
		{"nested", "k={a: [1, 2], b: {c: 3, d: 4}}", []string{"k={a: [1, 2], b: {c: 3, d: 4}}"}},
		{"a quoted comma", `k="x, y"`, []string{`k="x, y"`}},
		{"a comma in a quoted key of a mapping", `k={"a,b": 1}`, []string{`k={"a,b": 1}`}},
		{"an apostrophe inside a word is no quote", "k=it's,z=1", []string{"k=it's", "z=1"}},
		{"helm's list form", "list={x,y}", []string{"list={x,y}"}},
		{"left open is kept whole for the parser to name", "k={a: 1, b", []string{"k={a: 1, b"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := unsplit(strings.Split(tc.given, ",")); !slices.Equal(got, tc.want) {
				t.Errorf("unsplit(%q) = %q, want %q", tc.given, got, tc.want)
			}
		})
	}
}

func TestParseKVTakesAFlowMappingWhole(t *testing.T) {
	got, err := parseKV(strings.Split("k={a: 1, b: 2},n=3", ","), "parameters")
	if err != nil {
		t.Fatal(err)
	}
	m, ok := got["k"].(map[string]any)
	if !ok || len(m) != 2 || m["a"] != 1 || m["b"] != 2 || got["n"] != "3" {
		t.Errorf("parseKV = %#v, want k: {a: 1, b: 2} and n: 3", got)
	}
}
