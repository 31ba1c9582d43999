package blueprint

import (
	"fmt"
	"slices"
	"strings"
)

// Order returns the install levels: every node of a level has all the
// targets of its relationships in earlier levels, so the nodes of one level
// may be installed in parallel. Names within a level are sorted. A cycle in
// the relationships is an *Error naming it.
func (bp *Blueprint) Order() ([][]string, error) {
	deps := map[string][]string{}
	for name, n := range bp.Nodes {
		for _, r := range n.Relationships {
			if bp.Nodes[r.Target] != nil && r.Target != name && !slices.Contains(deps[name], r.Target) {
				deps[name] = append(deps[name], r.Target)
			}
		}
	}
	placed := map[string]bool{}
	var levels [][]string
	for len(placed) < len(bp.Nodes) {
		var level []string
		for name := range bp.Nodes {
			if !placed[name] && !slices.ContainsFunc(deps[name], func(d string) bool { return !placed[d] }) {
				level = append(level, name)
			}
		}
		if len(level) == 0 {
			return nil, bp.cycleError(deps, placed)
		}
		slices.Sort(level)
		for _, name := range level {
			placed[name] = true
		}
		levels = append(levels, level)
	}
	return levels, nil
}

// ReverseOrder returns the uninstall levels: Order's levels, last first.
func (bp *Blueprint) ReverseOrder() ([][]string, error) {
	levels, err := bp.Order()
	slices.Reverse(levels)
	return levels, err
}

// cycleError finds a cycle among the nodes not placed: each of them depends
// on another one not placed, so following dependencies must loop.
func (bp *Blueprint) cycleError(deps map[string][]string, placed map[string]bool) error {
	var left []string
	for name := range bp.Nodes {
		if !placed[name] {
			left = append(left, name)
		}
	}
	slices.Sort(left)
	path := []string{left[0]}
	for {
		cur := path[len(path)-1]
		var next string
		for _, d := range deps[cur] {
			if !placed[d] {
				next = d
				break
			}
		}
		if i := slices.Index(path, next); i >= 0 {
			cycle := append(path[i:], next)
			return &Error{Pos: bp.Nodes[cycle[0]].Pos, Msg: fmt.Sprintf(
				"node_templates.%s.relationships: the relationships form a cycle: %s", cycle[0], strings.Join(cycle, " -> "))}
		}
		path = append(path, next)
	}
}
