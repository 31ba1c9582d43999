package blueprint

import (
	"errors"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// fakeResolver answers from maps; keys of nested maps are joined paths.
type fakeResolver struct {
	inputs  map[string]any
	props   map[string]map[string]any // node -> properties
	attrs   map[string]map[string]any // node -> runtime properties
	secrets map[string]any
	caps    map[string]any // deployment id -> capabilities
	envCaps map[string]any
	sys     map[string]any // "deployment" / "tenant" -> fields
	labels  map[string]any
}

func (f *fakeResolver) Input(name string) (any, error) {
	v, ok := f.inputs[name]
	if !ok {
		return nil, fmt.Errorf("no input %q", name)
	}
	return v, nil
}

func (f *fakeResolver) Property(node string, path []any) (any, error) {
	return Lookup(f.props[node], path)
}

func (f *fakeResolver) Attribute(node string, path []any) (any, error) {
	return Lookup(f.attrs[node], path)
}

func (f *fakeResolver) Secret(path []any) (any, error)     { return Lookup(f.secrets, path) }
func (f *fakeResolver) Capability(path []any) (any, error) { return Lookup(f.caps, path) }
func (f *fakeResolver) EnvironmentCapability(path []any) (any, error) {
	return Lookup(f.envCaps, path)
}
func (f *fakeResolver) Sys(path []any) (any, error)   { return Lookup(f.sys, path) }
func (f *fakeResolver) Label(path []any) (any, error) { return Lookup(f.labels, path) }

func newFake() *fakeResolver {
	return &fakeResolver{
		inputs: map[string]any{"secret_name": "kubeconfig", "port": 8080, "cfg": map[string]any{"hosts": []any{"a", "b"}}},
		props: map[string]map[string]any{
			"web": {"port": 80, "tls": map[string]any{"enabled": true}},
			"db":  {"name": "pg"},
		},
		attrs: map[string]map[string]any{
			"web": {"ip": "10.0.0.1"}, "db": {"ip": "10.0.0.2", "ports": []any{5432}},
		},
		secrets: map[string]any{"kubeconfig": "KCFG", "creds": map[string]any{"user": "u"}},
		caps:    map[string]any{"env-1": map[string]any{"cluster": map[string]any{"url": "https://k8s"}}},
		envCaps: map[string]any{"namespace": "demo", "prom": map[string]any{"url": "http://prom"}},
		sys:     map[string]any{"deployment": map[string]any{"id": "dep-1"}, "tenant": map[string]any{"name": "default_tenant"}},
		labels:  map[string]any{"csys-obj-parent": []any{"env-1", "env-2"}},
	}
}

func fn(name string, args any) map[string]any { return map[string]any{name: args} }

func TestEvaluate(t *testing.T) {
	self := Scope{Self: "web"}
	rel := Scope{Source: "web", Target: "db"}
	tests := []struct {
		name  string
		in    any
		scope Scope
		want  any
	}{
		{name: "get_input reads an input", in: fn("get_input", "port"), want: 8080},
		{name: "get_input with a list reads inside the input", in: fn("get_input", []any{"cfg", "hosts", 1}), want: "b"},
		{name: "get_property SELF uses the scope's node", in: fn("get_property", []any{"SELF", "tls", "enabled"}), scope: self, want: true},
		{name: "get_property names another node", in: fn("get_property", []any{"db", "name"}), want: "pg"},
		{name: "get_attribute SOURCE and TARGET use the relationship's nodes",
			in:    []any{fn("get_attribute", []any{"SOURCE", "ip"}), fn("get_attribute", []any{"TARGET", "ports", 0})},
			scope: rel, want: []any{"10.0.0.1", 5432}},
		{name: "get_secret takes a name", in: fn("get_secret", "kubeconfig"), want: "KCFG"},
		{name: "get_secret takes a path", in: fn("get_secret", []any{"creds", "user"}), want: "u"},
		{name: "nested calls are evaluated first", in: fn("get_secret", fn("get_input", "secret_name")), want: "KCFG"},
		{name: "get_capability reads another deployment", in: fn("get_capability", []any{"env-1", "cluster", "url"}), want: "https://k8s"},
		{name: "get_environment_capability takes a name", in: fn("get_environment_capability", "namespace"), want: "demo"},
		{name: "get_environment_capability takes a path", in: fn("get_environment_capability", []any{"prom", "url"}), want: "http://prom"},
		{name: "get_sys reads deployment and tenant fields",
			in: []any{fn("get_sys", []any{"deployment", "id"}), fn("get_sys", []any{"tenant", "name"})}, want: []any{"dep-1", "default_tenant"}},
		{name: "get_label reads all values or one", in: []any{fn("get_label", "csys-obj-parent"), fn("get_label", []any{"csys-obj-parent", 1})},
			want: []any{[]any{"env-1", "env-2"}, "env-2"}},
		{name: "concat joins like Python's str()",
			in:   fn("concat", []any{"http://", fn("get_attribute", []any{"web", "ip"}), ":", 8080, "/", true, "/", nil, "/", 1.0, "/", 2.5}),
			want: "http://10.0.0.1:8080/True/None/1.0/2.5"},
		{name: "merge combines mappings, later keys winning",
			in:   fn("merge", []any{map[string]any{"a": 1, "b": map[string]any{"x": 1}}, fn("get_property", []any{"web", "tls"}), map[string]any{"a": 2}}),
			want: map[string]any{"a": 2, "b": map[string]any{"x": 1}, "enabled": true}},
		{name: "calls are found anywhere in maps and lists",
			in:   map[string]any{"env": []any{map[string]any{"URL": fn("get_input", "port")}}, "n": 1},
			want: map[string]any{"env": []any{map[string]any{"URL": 8080}}, "n": 1}},
		{name: "an unknown get_ key is plain data", in: fn("get_inputs", "port"), want: fn("get_inputs", "port")},
		{name: "a mapping with a function key and another key is plain data",
			in: map[string]any{"get_input": "port", "x": 1}, want: map[string]any{"get_input": "port", "x": 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Evaluate(tt.in, tt.scope, newFake())
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Error(diff)
			}
		})
	}
}

func TestEvaluateErrors(t *testing.T) {
	tests := []struct {
		name  string
		in    any
		scope Scope
		want  string
	}{
		{name: "a resolver error names the function and its arguments", in: fn("get_input", "nope"), want: `get_input "nope": no input "nope"`},
		{name: "a nested call's error says where it is", in: map[string]any{"a": []any{fn("get_secret", "nope")}},
			want: `a[0]: get_secret "nope": the value has no key "nope"`},
		{name: "SELF needs a node scope", in: fn("get_property", []any{"SELF", "port"}),
			want: `get_property: SELF can only be used in node properties and operations`},
		{name: "TARGET needs a relationship scope", in: fn("get_attribute", []any{"TARGET", "ip"}), scope: Scope{Self: "web"},
			want: `get_attribute: TARGET can only be used in relationship operations`},
		{name: "get_property needs a node and a name", in: fn("get_property", "port"),
			want: `get_property: expected a list [SELF|<node>, name, key...], got "port"`},
		{name: "get_sys takes deployment or tenant", in: fn("get_sys", []any{"node", "id"}),
			want: `get_sys: the first item must be deployment or tenant, got "node"`},
		{name: "get_capability needs a deployment and a capability", in: fn("get_capability", []any{"env-1"}),
			want: `get_capability: expected a list [deployment id, capability, key...], got ["env-1"]`},
		{name: "get_label takes a key or a key and an index", in: fn("get_label", []any{"a", 1, 2}),
			want: `get_label: expected a label key or [key, index], got ["a",1,2]`},
		{name: "concat refuses mappings", in: fn("concat", []any{"a", map[string]any{"b": 1}}),
			want: `concat: item 1 is {"b":1}; only strings, numbers, booleans and null can be joined`},
		{name: "merge needs mappings", in: fn("merge", []any{map[string]any{}, "x"}), want: `merge: item 1 must be a mapping, got "x"`},
		{name: "a nested call must give a usable argument", in: fn("get_secret", fn("get_input", "cfg")),
			want: `get_secret: expected a name or a list [name, key...], got {"hosts":["a","b"]}`},
		{name: "paths report missing keys", in: fn("get_property", []any{"web", "tls", "cert"}),
			want: `get_property ["web","tls","cert"]: tls has no key "cert"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Evaluate(tt.in, tt.scope, newFake())
			if err == nil || err.Error() != tt.want {
				t.Fatalf("error:\n%v\nwant:\n%s", err, tt.want)
			}
		})
	}
}

func TestEvaluateReturnsACopy(t *testing.T) {
	in := map[string]any{"list": []any{map[string]any{"a": 1}}}
	out, err := Evaluate(in, Scope{}, newFake())
	if err != nil {
		t.Fatal(err)
	}
	out.(map[string]any)["list"].([]any)[0].(map[string]any)["a"] = 2
	if diff := cmp.Diff(map[string]any{"list": []any{map[string]any{"a": 1}}}, in); diff != "" {
		t.Error(diff)
	}
}

func TestStaticResolver(t *testing.T) {
	bp := loadFull(t)
	r := &StaticResolver{Blueprint: bp, Inputs: map[string]any{"env": "prod", "target_url": "http://x"}}

	t.Run("properties are evaluated with their node as SELF, through get_input and get_property", func(t *testing.T) {
		got, err := Evaluate([]any{
			fn("get_property", []any{"http_chaos", "namespace"}),
			fn("get_property", []any{"app", "replicas"}),
			bp.Capabilities["namespace"].Value,
		}, Scope{}, r)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]any{"chaos-prod", 2, "chaos-prod"}, got); diff != "" {
			t.Error(diff)
		}
	})

	t.Run("runtime values are not available without a Runtime resolver", func(t *testing.T) {
		_, err := Evaluate(bp.Outputs["kube"].Value, Scope{}, r)
		if !errors.Is(err, ErrNotAvailable) {
			t.Fatalf("got %v, want ErrNotAvailable", err)
		}
	})

	t.Run("a Runtime resolver answers the rest", func(t *testing.T) {
		rr := &StaticResolver{Blueprint: bp, Runtime: newFake()}
		op := bp.Nodes["http_chaos"].Operation("chaos_actions.run_http_chaos")
		got, err := Evaluate(op.Inputs["KUBECONFIG_DATA"], Scope{Self: "http_chaos"}, rr)
		if err != nil {
			t.Fatal(err)
		}
		if got != "KCFG" {
			t.Errorf("got %v", got)
		}
	})

	t.Run("a property referring to itself is an error, not a loop", func(t *testing.T) {
		loop := &Blueprint{Nodes: map[string]*NodeTemplate{"a": {Name: "a", Properties: map[string]any{
			"x": fn("get_property", []any{"SELF", "y"}), "y": fn("get_property", []any{"a", "x"}),
		}}}}
		_, err := Evaluate(fn("get_property", []any{"a", "x"}), Scope{}, &StaticResolver{Blueprint: loop})
		want := `get_property ["a","x"]: property "x" of node "a": get_property ["SELF","y"]: property "y" of node "a": get_property ["a","x"]: property "x" of node "a" refers to itself`
		if err == nil || err.Error() != want {
			t.Fatalf("error:\n%v\nwant:\n%s", err, want)
		}
	})

	t.Run("labels come from the blueprint without a Runtime resolver", func(t *testing.T) {
		got, err := Evaluate([]any{fn("get_label", "csys-obj-parent"), fn("get_label", []any{"csys-obj-type", 0})}, Scope{}, r)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]any{[]any{"env-1"}, "service"}, got); diff != "" {
			t.Error(diff)
		}
		if _, err := Evaluate(fn("get_label", "team"), Scope{}, r); !errors.Is(err, ErrNotAvailable) {
			t.Errorf("got %v, want ErrNotAvailable", err)
		}
	})

	t.Run("inputs fall back to declared defaults and undeclared ones fail", func(t *testing.T) {
		got, err := Evaluate([]any{fn("get_input", "port"), fn("get_input", "verbose")}, Scope{}, r)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]any{8080, nil}, got); diff != "" {
			t.Error(diff)
		}
		if _, err := r.Input("nope"); err == nil {
			t.Error("an undeclared input resolved")
		}
	})
}

func TestFunctionListings(t *testing.T) {
	t.Run("Functions lists calls with nested ones, in key order", func(t *testing.T) {
		v := map[string]any{
			"b": fn("get_secret", fn("get_input", "name")),
			"a": []any{fn("concat", []any{"x", fn("get_attribute", []any{"SELF", "ip"})})},
			"c": fn("get_foo", 1),
		}
		var got []string
		for _, f := range Functions(v) {
			got = append(got, f.Path+" "+f.Name)
		}
		want := []string{"a[0] concat", "a[0].concat[1] get_attribute", "b get_secret", "b.get_secret get_input"}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Error(diff)
		}
		if diff := cmp.Diff([]FuncRef{{Name: "get_foo", Args: 1, Path: "c"}}, SuspectFunctions(v), cmp.AllowUnexported(FuncRef{})); diff != "" {
			t.Error(diff)
		}
	})

	t.Run("the blueprint lists its calls with positions", func(t *testing.T) {
		bp := loadFull(t)
		var got []string
		for _, f := range bp.Functions() {
			if f.Pos.File == fullTypes {
				got = append(got, fmt.Sprintf("%s %s %s", f.Pos, f.Path, f.Name))
			}
		}
		want := []string{
			fullTypes + ":46 node_types.chaos.nodes.HTTPChaos.interfaces.chaos_actions.run_http_chaos.inputs.KUBECONFIG_DATA.default.get_secret get_input",
			fullTypes + ":46 node_types.chaos.nodes.HTTPChaos.interfaces.chaos_actions.run_http_chaos.inputs.KUBECONFIG_DATA.default get_secret",
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Error(diff)
		}
	})
}
