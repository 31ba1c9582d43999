package blueprint

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

const (
	fullMain  = "testdata/full/blueprint.yaml"
	fullTypes = "testdata/full/types/chaos.yaml"
)

var ignoreUnexported = cmpopts.IgnoreUnexported(Input{}, NodeType{}, RelationshipType{}, Constraint{}, Blueprint{})

func intp(i int) *int { return &i }

func at(file string, line, col int) Pos { return Pos{File: file, Line: line, Col: col} }

func loadFull(t *testing.T) *Blueprint {
	t.Helper()
	bp, err := Load(fullMain)
	if err != nil {
		t.Fatalf("Load(%s): %v", fullMain, err)
	}
	return bp
}

func TestLoadFullBlueprint(t *testing.T) {
	bp := loadFull(t)

	t.Run("the header, imports and files are recorded", func(t *testing.T) {
		got := []any{bp.DSLVersion, bp.Dir, bp.Description, bp.Imports, bp.Files}
		want := []any{"cloudify_dsl_1_4", "testdata/full", "Full blueprint used by the package tests.",
			[]string{"cloudify/types/types.yaml", "types/chaos.yaml"}, []string{fullMain, fullTypes}}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Error(diff)
		}
	})

	t.Run("inputs and nodes keep declaration order", func(t *testing.T) {
		got := [][]string{bp.InputOrder, bp.NodeOrder}
		want := [][]string{
			{"target_url", "port", "env", "kubeconfig_secret", "replicas", "tags", "verbose"},
			{"cluster", "probe", "namespace", "app", "db", "http_chaos"},
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Error(diff)
		}
	})

	t.Run("an input declaration is read whole", func(t *testing.T) {
		want := &Input{Name: "env", Type: "string", Default: "dev", HasDefault: true, DisplayLabel: "Environment",
			Constraints: []*Constraint{{Op: "valid_values", Arg: []any{"dev", "prod"}, Pos: at(fullMain, 29, 9)}},
			Pos:         at(fullMain, 24, 3)}
		if diff := cmp.Diff(want, bp.Inputs["env"], ignoreUnexported); diff != "" {
			t.Error(diff)
		}
		if in := bp.Inputs["target_url"]; !in.Required || bp.Inputs["verbose"].Required {
			t.Errorf("required: target_url %v (want true), verbose %v (want false)", in.Required, bp.Inputs["verbose"].Required)
		}
	})

	t.Run("derived types merge properties down the hierarchy", func(t *testing.T) {
		nt := bp.NodeTypes["chaos.nodes.Workload"]
		got := map[string]any{}
		for name, p := range nt.Properties {
			got[name] = []any{p.Type, p.Default, p.Required, p.Pos.File}
		}
		want := map[string]any{
			"labels":    []any{"dict", map[string]any{"app.kubernetes.io/managed-by": "chaosops"}, false, fullTypes},
			"namespace": []any{"string", "apps", false, fullTypes},
			"image":     []any{"string", nil, true, fullTypes},
			"replicas":  []any{"integer", 1, false, fullTypes},
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Error(diff)
		}
		if diff := cmp.Diff([]string{TypeRoot, "chaos.nodes.Base", "chaos.nodes.Workload"}, nt.Hierarchy); diff != "" {
			t.Error(diff)
		}
	})

	t.Run("node templates get type defaults under their own values", func(t *testing.T) {
		got := map[string]map[string]any{}
		for _, name := range []string{"app", "db", "http_chaos", "cluster"} {
			got[name] = bp.Nodes[name].Properties
		}
		labels := map[string]any{"app.kubernetes.io/managed-by": "chaosops"}
		want := map[string]map[string]any{
			"app":        {"image": "nginx", "replicas": map[string]any{"get_input": "replicas"}, "namespace": "apps", "labels": labels},
			"db":         {"image": "postgres", "replicas": 1, "namespace": "apps", "labels": labels},
			"http_chaos": {"namespace": map[string]any{"get_property": []any{"namespace", "name"}}, "labels": labels},
			"cluster":    {},
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Error(diff)
		}
	})

	t.Run("instances come from the scalable capability or default to one", func(t *testing.T) {
		got := map[string]int{"app": bp.Nodes["app"].Instances, "db": bp.Nodes["db"].Instances}
		if diff := cmp.Diff(map[string]int{"app": 2, "db": 1}, got); diff != "" {
			t.Error(diff)
		}
	})

	t.Run("a template operation without implementation fills the type's input schema", func(t *testing.T) {
		want := &Operation{
			Interface: "chaos_actions", Name: "run_http_chaos", Implementation: "bin/chaosops", Kind: ImplScript,
			Inputs: map[string]any{
				"TARGET_URL":      map[string]any{"get_input": "target_url"},
				"KUBECONFIG_DATA": map[string]any{"get_secret": map[string]any{"get_input": "kubeconfig_secret"}},
				"CHAOS_SPEC":      map[string]any{"duration": "60s", "abort_percent": 50},
				"CFY_OP":          "run_http_chaos",
			},
			Executor: "central_deployment_agent", MaxRetries: intp(0), Timeout: intp(900),
			Pos: at(fullMain, 88, 9),
		}
		got := bp.Nodes["http_chaos"].Operation("chaos_actions.run_http_chaos")
		if diff := cmp.Diff(want, got); diff != "" {
			t.Error(diff)
		}
	})

	t.Run("a template operation with its own implementation replaces the type's", func(t *testing.T) {
		want := &Operation{
			Interface: "cloudify.interfaces.lifecycle", Name: "create", Implementation: "bin/chaosops", Kind: ImplScript,
			Inputs:   map[string]any{"CFY_OP": "kubernetes.apply", "MANIFEST": "manifests/app.yaml"},
			Executor: "central_deployment_agent", MaxRetries: intp(0), Pos: at(fullMain, 92, 9),
		}
		got := bp.Nodes["http_chaos"].Operation("cloudify.interfaces.lifecycle.create")
		if diff := cmp.Diff(want, got); diff != "" {
			t.Error(diff)
		}
	})

	t.Run("an empty template operation turns the type's into a no-op", func(t *testing.T) {
		got := bp.Nodes["http_chaos"].Operation("cloudify.interfaces.lifecycle.delete")
		want := &Operation{Interface: "cloudify.interfaces.lifecycle", Name: "delete", Inputs: map[string]any{}, Pos: at(fullMain, 98, 9)}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Error(diff)
		}
	})

	t.Run("inherited operations keep their type's position and unused ones are no-ops", func(t *testing.T) {
		db := bp.Nodes["db"]
		got := []any{db.Operation("cloudify.interfaces.lifecycle.start").Kind, db.Operation("cloudify.interfaces.lifecycle.start").Pos,
			bp.Nodes["probe"].Operation("cloudify.interfaces.lifecycle.start").Kind}
		want := []any{ImplNone, builtinPos, ImplScript}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Error(diff)
		}
		if db.Operation("nope.create") != nil || db.Operation("create") != nil {
			t.Error("Operation found an operation that does not exist")
		}
	})

	t.Run("relationships carry their type hierarchy, properties and merged operations", func(t *testing.T) {
		r := bp.Nodes["http_chaos"].Relationships[0]
		got := []any{r.Type, r.Target, r.TypeHierarchy, r.Properties, r.Is(RelDependsOn), r.Pos,
			r.TargetInterfaces["cloudify.interfaces.relationship_lifecycle"]["establish"],
			r.SourceInterfaces["cloudify.interfaces.relationship_lifecycle"]["establish"].Kind}
		want := []any{"chaos.relationships.targets", "app",
			[]string{RelDependsOn, RelConnectedTo, "chaos.relationships.targets"},
			map[string]any{"connection_type": "all_to_all", "mode": "all"}, true, at(fullMain, 100, 9),
			&Operation{Interface: "cloudify.interfaces.relationship_lifecycle", Name: "establish",
				Implementation: "bin/chaosops", Kind: ImplScript, Executor: "central_deployment_agent",
				Inputs: map[string]any{
					"TARGET_IP":   map[string]any{"get_attribute": []any{"TARGET", "ip"}},
					"SOURCE_NAME": map[string]any{"get_property": []any{"SOURCE", "namespace"}},
				}, Pos: at(fullMain, 104, 13)},
			ImplNone}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Error(diff)
		}
		if n := bp.Nodes["namespace"]; !n.Is(TypeRoot) || n.Is(TypeCompute) {
			t.Errorf("namespace Is(Root)=%v Is(Compute)=%v", n.Is(TypeRoot), n.Is(TypeCompute))
		}
	})

	t.Run("workflows have parameters in order and the built-ins are added", func(t *testing.T) {
		w := bp.Workflows["RunHTTPChaos"]
		got := []any{w.Mapping, w.Kind, w.ParameterOrder, w.Parameters["duration"].Constraints[0].Op,
			bp.Workflows["Quick"].Mapping, bp.Workflows["install"].Builtin, bp.Workflows["execute_operation"].Parameters["operation"].Required}
		want := []any{"default_workflows.cloudify.plugins.workflows.execute_operation", ImplPlugin,
			[]string{"operation", "operation_kwargs", "allow_kwargs_override", "node_ids", "duration"}, "greater_than",
			"default_workflows.cloudify.plugins.workflows.execute_operation", true, true}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Error(diff)
		}
	})

	t.Run("outputs, capabilities and labels are read", func(t *testing.T) {
		got := []any{bp.OutputOrder, bp.Outputs["endpoint"], bp.Capabilities["namespace"].Value, bp.Labels}
		want := []any{[]string{"endpoint", "kube"},
			&Output{Name: "endpoint", Description: "Where the app answers.", Pos: at(fullMain, 128, 3),
				Value: map[string]any{"concat": []any{map[string]any{"get_input": "target_url"}, ":", map[string]any{"get_input": "port"}}}},
			map[string]any{"get_property": []any{"namespace", "name"}},
			map[string][]any{"csys-obj-type": {"service"}, "csys-obj-parent": {"env-1"}}}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Error(diff)
		}
	})
}

func TestOperationOverrides(t *testing.T) {
	t.Run("a null operation keeps the type's and {} makes it a no-op", testNullOperation)
}

func testNullOperation(t *testing.T) {
	inDir(t, map[string]string{"run.sh": "#!/bin/sh\n", "blueprint.yaml": header + `
node_types:
  base:
    derived_from: cloudify.nodes.Root
    interfaces:
      i: {op: run.sh}
  child:
    derived_from: base
    interfaces:
      i: {op: }
node_templates:
  a:
    type: child
    interfaces:
      i: {op: }
  b:
    type: child
    interfaces:
      i: {op: {}}
`})
	bp, err := Load("blueprint.yaml")
	if err != nil {
		t.Fatal(err)
	}
	got := []string{bp.Nodes["a"].Operation("i.op").Implementation, bp.Nodes["b"].Operation("i.op").Implementation}
	if diff := cmp.Diff([]string{"run.sh", ""}, got); diff != "" {
		t.Error(diff)
	}
}

// inDir writes files into a temporary directory and makes it the working
// directory, so that positions read "blueprint.yaml:N".
func inDir(t *testing.T, files map[string]string) {
	t.Helper()
	dir := t.TempDir()
	for name, text := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(strings.TrimLeft(text, "\n")), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Chdir(dir)
}

// errorLines returns the lines of err; each want line must be a prefix of
// the line at the same index.
func checkErrorLines(t *testing.T, err error, want []string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want:\n%s", strings.Join(want, "\n"))
	}
	got := strings.Split(err.Error(), "\n")
	ok := len(got) == len(want)
	for i := 0; ok && i < len(got); i++ {
		ok = strings.HasPrefix(got[i], want[i])
	}
	if !ok {
		t.Errorf("errors:\n%s\nwant (prefixes):\n%s", err, strings.Join(want, "\n"))
	}
}
