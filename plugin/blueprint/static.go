package blueprint

import "fmt"

// StaticResolver is a Resolver answering from the blueprint itself:
// get_input from Inputs (then from declared defaults) and get_property from
// the node templates, whose properties are evaluated in turn with SELF set
// to their node (so a property may use get_input or get_property). Every
// other call goes to Runtime, or fails with ErrNotAvailable when Runtime is
// nil. It is not safe for concurrent use.
type StaticResolver struct {
	Blueprint *Blueprint
	// Inputs are the deployment's inputs, typically from ResolveInputs.
	Inputs map[string]any
	// Runtime answers attributes, secrets, capabilities, labels and sys.
	Runtime Resolver

	visiting map[string]bool
}

// Input returns the given input, else its declared default.
func (s *StaticResolver) Input(name string) (any, error) {
	if v, ok := s.Inputs[name]; ok {
		return v, nil
	}
	in := s.Blueprint.Inputs[name]
	switch {
	case in == nil:
		return nil, fmt.Errorf("input %q is not declared", name)
	case in.HasDefault:
		return in.Default, nil
	case !in.Required:
		return nil, nil
	}
	return nil, fmt.Errorf("input %q has no value and no default", name)
}

// Property returns node's property at path, evaluated with SELF = node.
func (s *StaticResolver) Property(node string, path []any) (any, error) {
	n := s.Blueprint.Nodes[node]
	if n == nil {
		return nil, fmt.Errorf("node %q does not exist", node)
	}
	name, _ := path[0].(string)
	v, ok := n.Properties[name]
	if !ok {
		return nil, fmt.Errorf("node %q has no property %s", node, show(path[0]))
	}
	key := node + "\x00" + name
	if s.visiting[key] {
		return nil, fmt.Errorf("property %q of node %q refers to itself", name, node)
	}
	if s.visiting == nil {
		s.visiting = map[string]bool{}
	}
	s.visiting[key] = true
	defer delete(s.visiting, key)
	v, err := Evaluate(v, Scope{Self: node}, s)
	if err != nil {
		return nil, fmt.Errorf("property %q of node %q: %w", name, node, err)
	}
	v, err = Lookup(v, path[1:])
	if err != nil {
		return nil, fmt.Errorf("property %q of node %q: %w", name, node, err)
	}
	return v, nil
}

func (s *StaticResolver) runtime(what string) error {
	return fmt.Errorf("%s is %w", what, ErrNotAvailable)
}

// Attribute delegates to Runtime.
func (s *StaticResolver) Attribute(node string, path []any) (any, error) {
	if s.Runtime == nil {
		return nil, s.runtime("a runtime property")
	}
	return s.Runtime.Attribute(node, path)
}

// Secret delegates to Runtime.
func (s *StaticResolver) Secret(path []any) (any, error) {
	if s.Runtime == nil {
		return nil, s.runtime("a secret")
	}
	return s.Runtime.Secret(path)
}

// Capability delegates to Runtime.
func (s *StaticResolver) Capability(path []any) (any, error) {
	if s.Runtime == nil {
		return nil, s.runtime("a capability")
	}
	return s.Runtime.Capability(path)
}

// EnvironmentCapability delegates to Runtime.
func (s *StaticResolver) EnvironmentCapability(path []any) (any, error) {
	if s.Runtime == nil {
		return nil, s.runtime("an environment capability")
	}
	return s.Runtime.EnvironmentCapability(path)
}

// Sys delegates to Runtime.
func (s *StaticResolver) Sys(path []any) (any, error) {
	if s.Runtime == nil {
		return nil, s.runtime("get_sys")
	}
	return s.Runtime.Sys(path)
}

// Label delegates to Runtime; without one it reads the blueprint's labels:
// [key] gives all values, [key, index] one.
func (s *StaticResolver) Label(path []any) (any, error) {
	if s.Runtime != nil {
		return s.Runtime.Label(path)
	}
	key, _ := path[0].(string)
	values, ok := s.Blueprint.Labels[key]
	if !ok {
		return nil, fmt.Errorf("label %q is not in the blueprint and deployment labels are %w", key, ErrNotAvailable)
	}
	v, err := Evaluate(values, Scope{}, s)
	if err != nil {
		return nil, fmt.Errorf("label %q: %w", key, err)
	}
	return Lookup(v, path[1:])
}
