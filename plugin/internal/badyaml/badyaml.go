// Package badyaml holds pathological YAML for the tests of every reader.
package badyaml

import "strings"

// AliasBomb is a billion-laughs mapping, each line at indent: nine
// anchors a to i, each a list of nine aliases of the one before, so that
// its aliases expand to 9^9 strings. Line 6 (the list of *e) is where
// yamllimit's default limit is met.
func AliasBomb(indent string) string {
	var b strings.Builder
	b.WriteString(indent + "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n")
	for c := 'b'; c <= 'i'; c++ {
		p := "*" + string(c-1)
		b.WriteString(indent + string(c) + ": &" + string(c) + " [" + strings.Repeat(p+", ", 8) + p + "]\n")
	}
	return b.String()
}
