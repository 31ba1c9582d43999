package yamllimit

import (
	"fmt"

	"gopkg.in/yaml.v3"
)

// Check walks a parsed node tree and returns an Error at the first
// construct that breaks a limit of l: the node past MaxNodes, the alias
// whose expansion passes MaxAliasNodes or MaxDepth, an anchor that holds
// an alias of itself, or the node nested deeper than MaxDepth. The walk
// is linear in the nodes as written: the expanded size of an anchor is
// computed once.
func (l Limits) Check(name string, n *yaml.Node) error {
	c := &checker{lim: l, name: name, expanded: map[*yaml.Node]extent{}, busy: map[*yaml.Node]bool{}}
	return c.visit(n, 0)
}

// extent is the size of a node with its aliases expanded.
type extent struct {
	nodes  int // saturated at cap
	height int // levels below and including the node
}

type checker struct {
	lim      Limits
	name     string
	nodes    int // nodes as written
	added    int // nodes added by aliases
	expanded map[*yaml.Node]extent
	busy     map[*yaml.Node]bool
}

func (c *checker) errorf(n *yaml.Node, format string, args ...any) *Error {
	return &Error{File: c.name, Line: n.Line, Msg: fmt.Sprintf(format, args...), bound: true}
}

func (c *checker) tooDeep(n *yaml.Node) *Error {
	return c.errorf(n, "nested deeper than the limit of %d levels of mappings and lists", c.lim.MaxDepth)
}

// visit walks the nodes as written; an alias counts as the nodes it
// expands to.
func (c *checker) visit(n *yaml.Node, depth int) error {
	if c.nodes++; c.nodes > c.lim.MaxNodes {
		return c.errorf(n, "the file holds more than the limit of %d YAML nodes", c.lim.MaxNodes)
	}
	if depth > c.lim.MaxDepth {
		return c.tooDeep(n)
	}
	if n.Kind == yaml.AliasNode {
		x, err := c.extent(n.Alias, depth)
		if err != nil {
			return c.alias(n, err)
		}
		if depth+x.height > c.lim.MaxDepth {
			return c.errorf(n, "alias *%s nests deeper than the limit of %d levels of mappings and lists", n.Value, c.lim.MaxDepth)
		}
		if c.added += x.nodes; c.added > c.lim.MaxAliasNodes {
			return c.errorf(n, "alias *%s: the aliases up to here expand to more than the limit of %d YAML nodes (an alias bomb?)", n.Value, c.lim.MaxAliasNodes)
		}
		return nil
	}
	for _, child := range n.Content {
		if err := c.visit(child, depth+1); err != nil {
			return err
		}
	}
	return nil
}

// extentError stops an extent: an anchor met again inside itself (cycle),
// or nesting past the limit (cycle nil). visit reports it at the alias.
type extentError struct{ cycle *yaml.Node }

func (e *extentError) Error() string { return "extent" }

func (c *checker) alias(n *yaml.Node, err error) error {
	if e, ok := err.(*extentError); ok && e.cycle != nil {
		return c.errorf(n, "alias *%s: anchor &%s (line %d) holds an alias of itself", n.Value, e.cycle.Anchor, e.cycle.Line)
	}
	if e, ok := err.(*extentError); ok && e.cycle == nil {
		return c.errorf(n, "alias *%s nests deeper than the limit of %d levels of mappings and lists", n.Value, c.lim.MaxDepth)
	}
	return err
}

// extent computes the expanded size of n, memoized for anchors. depth is
// where n sits, only to stop a walk that already nests too deep.
func (c *checker) extent(n *yaml.Node, depth int) (extent, error) {
	if depth > c.lim.MaxDepth {
		return extent{}, &extentError{}
	}
	if x, ok := c.expanded[n]; ok {
		return x, nil
	}
	if n.Kind == yaml.AliasNode {
		return c.extent(n.Alias, depth)
	}
	if c.busy[n] {
		return extent{}, &extentError{cycle: n}
	}
	c.busy[n] = true
	defer delete(c.busy, n)
	// Beyond this the sum is only compared with the limit.
	ceiling := c.lim.MaxAliasNodes + 1
	x := extent{nodes: 1}
	for _, child := range n.Content {
		cx, err := c.extent(child, depth+1)
		if err != nil {
			return extent{}, err
		}
		x.nodes = min(x.nodes+cx.nodes, ceiling)
		x.height = max(x.height, cx.height)
	}
	x.height++
	if n.Anchor != "" {
		c.expanded[n] = x
	}
	return x, nil
}
