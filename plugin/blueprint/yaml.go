package blueprint

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// reader reads the YAML nodes of one file and reports problems with the
// file's positions.
type reader struct {
	*loader
	file string
}

func (r *reader) pos(n *yaml.Node) Pos {
	return Pos{File: r.file, Line: n.Line, Col: n.Column}
}

func deref(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	n = deref(n)
	return n == nil || (n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null")
}

// pair is one key of a YAML mapping, with the key's node for positions.
type pair struct {
	key  string
	k, v *yaml.Node
}

// mapping returns the pairs of a mapping node in order. YAML merge keys
// ("<<: *anchor", used with dsl_definitions) are expanded; explicit keys win
// over merged ones. A null node is an empty mapping. Anything else is
// reported and gives ok false.
func (r *reader) mapping(n *yaml.Node, where string) (pairs []pair, ok bool) {
	n = deref(n)
	if isNull(n) {
		return nil, true
	}
	if n.Kind != yaml.MappingNode {
		r.add(r.pos(n), "%s: expected a mapping, got %s", where, describe(n))
		return nil, false
	}
	explicit := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		if k.ShortTag() == "!!merge" {
			continue
		}
		key, ok := r.key(k, where)
		if !ok {
			continue
		}
		if first, dup := explicit[key]; dup {
			r.add(r.pos(k), "%s: key %q is repeated (first at line %d)", where, key, first.Line)
			continue
		}
		explicit[key] = k
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.ShortTag() == "!!merge" {
			for _, m := range r.mergeSources(v, where) {
				sub, _ := r.mapping(m, where)
				for _, p := range sub {
					if explicit[p.key] == nil && !seen[p.key] {
						seen[p.key] = true
						pairs = append(pairs, p)
					}
				}
			}
			continue
		}
		key, ok := r.key(k, where)
		if !ok || explicit[key] != k {
			continue
		}
		seen[key] = true
		pairs = append(pairs, pair{key: key, k: k, v: v})
	}
	return pairs, true
}

func (r *reader) mergeSources(v *yaml.Node, where string) []*yaml.Node {
	v = deref(v)
	switch v.Kind {
	case yaml.MappingNode:
		return []*yaml.Node{v}
	case yaml.SequenceNode:
		var out []*yaml.Node
		for _, item := range v.Content {
			if item = deref(item); item.Kind == yaml.MappingNode {
				out = append(out, item)
			} else {
				r.add(r.pos(item), "%s: a merge key (<<) takes mappings, got %s", where, describe(item))
			}
		}
		return out
	}
	r.add(r.pos(v), "%s: a merge key (<<) takes a mapping or a list of mappings, got %s", where, describe(v))
	return nil
}

// key returns a mapping key as text. Scalar keys keep their source text, as
// JSON would print them; other keys are reported.
func (r *reader) key(k *yaml.Node, where string) (string, bool) {
	k = deref(k)
	if k.Kind != yaml.ScalarNode {
		r.add(r.pos(k), "%s: mapping keys must be plain values, got %s", where, describe(k))
		return "", false
	}
	return k.Value, true
}

// sequence returns the items of a sequence node; null is empty.
func (r *reader) sequence(n *yaml.Node, where string) ([]*yaml.Node, bool) {
	n = deref(n)
	if isNull(n) {
		return nil, true
	}
	if n.Kind != yaml.SequenceNode {
		r.add(r.pos(n), "%s: expected a list, got %s", where, describe(n))
		return nil, false
	}
	return n.Content, true
}

// str returns the text of a string scalar; anything else is reported.
func (r *reader) str(n *yaml.Node, where string) (string, bool) {
	n = deref(n)
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!str" {
		r.add(r.pos(n), "%s: expected a string, got %s", where, describe(n))
		return "", false
	}
	return n.Value, true
}

// checkKeys reports every key not in valid, suggesting the closest one.
func (r *reader) checkKeys(pairs []pair, where string, valid ...string) {
	for _, p := range pairs {
		if !slices.Contains(valid, p.key) {
			r.add(r.pos(p.k), "%s: unknown key %q%s", where, p.key, suggest(p.key, valid))
		}
	}
}

// suggest returns ` (did you mean "x"? valid: ...)` for an unknown key.
func suggest(key string, valid []string) string {
	sorted := slices.Sorted(slices.Values(valid))
	best, bestD := "", 3
	for _, v := range sorted {
		if d := editDistance(key, v); d < bestD {
			best, bestD = v, d
		}
	}
	list := strings.Join(sorted, ", ")
	if best != "" {
		return fmt.Sprintf(" (did you mean %q? valid: %s)", best, list)
	}
	return " (valid: " + list + ")"
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

// describe names the YAML kind of a node for error messages.
func describe(n *yaml.Node) string {
	n = deref(n)
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	switch n.ShortTag() {
	case "!!null":
		return "null"
	case "!!str":
		return strconv.Quote(n.Value)
	}
	return n.Value
}

// value converts a node to a plain Go value: map[string]any, []any, string,
// int, float64, bool or nil. Intrinsic function calls met on the way are
// recorded with their position; fc says which of SELF, SOURCE and TARGET
// they may use.
func (r *reader) value(n *yaml.Node, where string, fc funcContext) any {
	n = deref(n)
	switch n.Kind {
	case yaml.MappingNode:
		pairs, _ := r.mapping(n, where)
		m := make(map[string]any, len(pairs))
		for _, p := range pairs {
			m[p.key] = r.value(p.v, where+"."+p.key, fc)
		}
		if len(pairs) == 1 {
			r.noteCall(pairs[0].key, m[pairs[0].key], where, r.pos(pairs[0].k), fc)
		}
		return m
	case yaml.SequenceNode:
		l := make([]any, len(n.Content))
		for i, item := range n.Content {
			l[i] = r.value(item, fmt.Sprintf("%s[%d]", where, i), fc)
		}
		return l
	case yaml.ScalarNode:
		return r.scalar(n, where)
	}
	return nil
}

func (r *reader) scalar(n *yaml.Node, where string) any {
	var v any
	if err := n.Decode(&v); err != nil {
		r.add(r.pos(n), "%s: %v", where, err)
		return nil
	}
	switch x := v.(type) {
	case int64:
		return int(x)
	case uint64:
		if x > math.MaxInt {
			r.add(r.pos(n), "%s: integer %s is too large", where, n.Value)
			return nil
		}
		return int(x)
	}
	return v
}
