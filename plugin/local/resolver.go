package local

import (
	"fmt"
	"strings"

	"github.com/cloudify-chaos/chaosops/plugin/blueprint"
)

// runtimeResolver answers the intrinsic functions that need deployment
// state: attributes, secrets, capabilities of other local deployments,
// labels and get_sys. get_input and get_property are answered by
// blueprint.StaticResolver, which delegates the rest here.
type runtimeResolver struct {
	r  *Runner
	d  *Deployment
	bp *blueprint.Blueprint
}

func (rr *runtimeResolver) resolver() *blueprint.StaticResolver {
	return &blueprint.StaticResolver{Blueprint: rr.bp, Inputs: rr.d.Inputs, Runtime: rr}
}

func (rr *runtimeResolver) Input(name string) (any, error) {
	return rr.resolver().Input(name)
}

func (rr *runtimeResolver) Property(node string, path []any) (any, error) {
	return rr.resolver().Property(node, path)
}

// Attribute reads a runtime property, falling back to the node property of
// the same name, as Cloudify's get_attribute does.
func (rr *runtimeResolver) Attribute(node string, path []any) (any, error) {
	rr.r.mu.Lock()
	var props map[string]any
	for _, inst := range rr.d.Instances {
		if inst.Node == node {
			props = inst.RuntimeProperties
		}
	}
	v, err := dig(props, path)
	rr.r.mu.Unlock()
	if err == nil {
		return v, nil
	}
	if _, perr := rr.Property(node, path[:1]); perr == nil {
		return rr.Property(node, path)
	}
	return nil, nil // Cloudify evaluates a missing attribute to null
}

func (rr *runtimeResolver) Secret(path []any) (any, error) {
	name, ok := path[0].(string)
	if !ok {
		return nil, fmt.Errorf("get_secret: the secret name must be a string")
	}
	v, err := rr.r.Secrets.Get(name)
	if err != nil {
		return nil, err
	}
	if len(path) == 1 {
		return v, nil
	}
	if s, isStr := v.(string); isStr {
		// Cloudify secrets are strings; nested access parses them as JSON/YAML.
		if parsed, perr := decodeStructured(s); perr == nil {
			v = parsed
		}
	}
	return dig(v, path[1:])
}

// Capability evaluates another deployment's capability now, from its
// blueprint and current state, as Cloudify does at request time.
func (rr *runtimeResolver) Capability(path []any) (any, error) {
	dep, ok := path[0].(string)
	if !ok || len(path) < 2 {
		return nil, fmt.Errorf("get_capability: give [deployment id, capability name, ...]")
	}
	other, err := rr.r.Store.Load(dep)
	if err != nil {
		return nil, fmt.Errorf("get_capability %s: %w", dep, err)
	}
	obp, err := loadBlueprint(other.Blueprint)
	if err != nil {
		return nil, fmt.Errorf("get_capability %s: %w", dep, err)
	}
	name, _ := path[1].(string)
	def, ok := obp.Capabilities[name]
	if !ok {
		return nil, fmt.Errorf("get_capability: deployment %s has no capability %q (it has %v)", dep, name, obp.CapabilityOrder)
	}
	orr := &runtimeResolver{r: rr.r, d: other, bp: obp}
	v, err := blueprint.Evaluate(def.Value, blueprint.Scope{}, orr.resolver())
	if err != nil {
		return nil, fmt.Errorf("get_capability %s.%s: %w", dep, name, err)
	}
	return dig(v, path[2:])
}

func (rr *runtimeResolver) EnvironmentCapability(path []any) (any, error) {
	parent := rr.d.Parent
	if parent == "" {
		return nil, fmt.Errorf("get_environment_capability: deployment %s has no csys-obj-parent label; install it with --label csys-obj-parent=<environment>", rr.d.Name)
	}
	return rr.Capability(append([]any{parent}, path...))
}

func (rr *runtimeResolver) Sys(path []any) (any, error) {
	key := fmt.Sprint(path...)
	switch strings.Join(toStrings(path), ".") {
	case "deployment.id":
		return rr.d.Name, nil
	case "deployment.blueprint":
		return rr.d.BlueprintID, nil
	case "deployment.name":
		return rr.d.Name, nil
	case "deployment.owner":
		return "local", nil
	case "tenant.name":
		return "default_tenant", nil
	}
	return nil, fmt.Errorf("get_sys %s: not known locally (deployment id/name/blueprint/owner, tenant name)", key)
}

func (rr *runtimeResolver) Label(path []any) (any, error) {
	key, _ := path[0].(string)
	vals := rr.d.Labels[key]
	if len(path) == 1 {
		out := make([]any, len(vals))
		for i, v := range vals {
			out[i] = v
		}
		return out, nil
	}
	idx, ok := toInt(path[1])
	if !ok || idx < 0 || idx >= len(vals) {
		return nil, fmt.Errorf("get_label %s: no value at index %v", key, path[1])
	}
	return vals[idx], nil
}

// dig walks a value by a path of map keys and list indexes.
func dig(v any, path []any) (any, error) {
	for i, step := range path {
		switch c := v.(type) {
		case map[string]any:
			key, ok := step.(string)
			if !ok {
				return nil, fmt.Errorf("path %v: %v is not a key", path[:i+1], step)
			}
			next, found := c[key]
			if !found {
				return nil, fmt.Errorf("path %v: no key %q", path[:i+1], key)
			}
			v = next
		case []any:
			idx, ok := toInt(step)
			if !ok || idx < 0 || idx >= len(c) {
				return nil, fmt.Errorf("path %v: no index %v", path[:i+1], step)
			}
			v = c[idx]
		default:
			return nil, fmt.Errorf("path %v: cannot step into a %T", path[:i+1], v)
		}
	}
	return v, nil
}

func toInt(v any) (int, bool) {
	switch n := v.(type) {
	case int:
		return n, true
	case int64:
		return int(n), true
	case float64:
		return int(n), n == float64(int(n))
	}
	return 0, false
}

func toStrings(path []any) []string {
	out := make([]string, len(path))
	for i, p := range path {
		out[i] = fmt.Sprint(p)
	}
	return out
}
