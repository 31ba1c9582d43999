package blueprint

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// checkFunctions checks every intrinsic function call written in the
// blueprint: argument shapes, declared inputs, existing nodes and
// properties, and SELF/SOURCE/TARGET only where they mean something.
func (l *loader) checkFunctions() {
	for _, f := range l.funcs {
		if f.ctx == ctxInert {
			continue
		}
		if err := checkArgs(f.Name, f.Args, true); err != nil {
			l.add(f.Pos, "%s: %v", f.Path, err)
			continue
		}
		list := asList(f.Args)
		if len(list) == 0 {
			continue // concat: [] and merge: [] are fine
		}
		head, static := list[0].(string)
		if !static {
			continue
		}
		switch f.Name {
		case FuncGetInput:
			if strings.HasPrefix(f.Path, "inputs.") {
				l.add(f.Pos, "%s: get_input cannot be used in an input's declaration", f.Path)
			} else if l.bp.Inputs[head] == nil {
				l.add(f.Pos, "%s: get_input: input %q is not declared%s", f.Path, head, suggestName(head, l.bp.InputOrder))
			}
		case FuncGetProperty, FuncGetAttribute:
			if msg := l.checkNodeRef(f, head, list); msg != "" {
				l.add(f.Pos, "%s: %s: %s", f.Path, f.Name, msg)
			}
		}
	}
}

func (l *loader) checkNodeRef(f FuncRef, head string, list []any) string {
	switch head {
	case selfRef:
		switch f.ctx {
		case ctxNode:
			return ""
		case ctxRelationship:
			return "SELF has no meaning in a relationship operation; use SOURCE or TARGET"
		}
		return "SELF can only be used in node properties and operations"
	case sourceRef, targetRef:
		if f.ctx != ctxRelationship {
			return head + " can only be used in relationship operations"
		}
		return ""
	}
	n := l.nodes[head]
	if n == nil {
		return fmt.Sprintf("node %q does not exist%s", head, suggest(head, l.bp.NodeOrder))
	}
	prop, isName := list[1].(string)
	if f.Name != FuncGetProperty || !isName {
		return ""
	}
	_, given := n.props[prop]
	t := l.bp.NodeTypes[n.tpl.Type]
	if given || t == nil || t.Properties[prop] != nil {
		return ""
	}
	return fmt.Sprintf("node %q has no property %q%s", head, prop, suggest(prop, slices.Collect(maps.Keys(t.Properties))))
}
