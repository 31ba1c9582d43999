package commands

import "strings"

// unsplit undoes urfave/cli's splitting of a repeatable flag's value at
// every comma where the comma was inside a YAML flow collection or a quoted
// string: -p 'k={a: 1, b: 2}' arrives as "k={a: 1" and " b: 2}". A fragment
// that leaves a bracket or a quote open is joined with the next one, so
// -p a=1,b=2 still gives two pairs.
func unsplit(fragments []string) []string {
	var out []string
	var cur strings.Builder
	open := false
	for _, f := range fragments {
		if open {
			cur.WriteString(",")
		}
		cur.WriteString(f)
		if open = unbalanced(cur.String()); !open {
			out = append(out, cur.String())
			cur.Reset()
		}
	}
	if open {
		out = append(out, cur.String()) // let the YAML parser name the problem
	}
	return out
}

// unbalanced reports whether s leaves a [ or { or a quoted scalar open. A
// quote opens a scalar only where one starts (it's stays plain, as in YAML).
func unbalanced(s string) bool {
	depth := 0
	var quote rune
	prev := '='
	for _, r := range s {
		switch {
		case quote != 0:
			if r == quote {
				quote = 0
			}
		case (r == '\'' || r == '"') && strings.ContainsRune("=[{,:", prev):
			quote = r
		case r == '[' || r == '{':
			depth++
		case r == ']' || r == '}':
			depth--
		}
		if r != ' ' {
			prev = r
		}
	}
	return depth > 0 || quote != 0
}
