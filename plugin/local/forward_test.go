package local

import (
	"encoding/json"
	"maps"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/cloudify-chaos/chaosops/plugin/blueprint"
	"github.com/cloudify-chaos/chaosops/plugin/internal/standin/wfctx"
)

// TestForwarderMatchesItsPythonScript holds the local runner's forwarding
// (forwardedParameters) and the bundle's workflows/forward.py, which a
// manager runs, to the same contract: for the same typed parameters, after
// Cloudify's defaulting and checks (ResolveParameters), both run the same
// operation with the same inputs on the same nodes, or both refuse.
func TestForwarderMatchesItsPythonScript(t *testing.T) {
	_, self, _, _ := runtime.Caller(0)
	dir := filepath.Join(filepath.Dir(self), "..", "..", "blueprints", "Python-Prometheus")
	bp, err := loadBlueprint(filepath.Join(dir, "blueprint.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	nodes := map[string]wfctx.Node{}
	for _, name := range bp.NodeOrder {
		var ops []string
		for iface, m := range bp.Nodes[name].Interfaces {
			for op, o := range m {
				if o != nil {
					ops = append(ops, iface+"."+op)
				}
			}
		}
		nodes[name] = wfctx.Node{Operations: ops, Instances: []string{name + "_1"}}
	}
	for _, tc := range []struct {
		name     string
		workflow string
		given    map[string]any
		want     map[string]any // a few of the forwarded inputs
		refused  string         // both refuse, the script's message has this
	}{
		{"typed parameters as cfy -p gives them", "RunHTTPChaos", map[string]any{"duration": "6s", "mode": "all"},
			map[string]any{"duration": "6s", "mode": "all", "port": float64(8080), "abort": true, "target": "Request"}, ""},
		{"empty strings and lists keep the deployment's value", "RunHTTPChaos", map[string]any{"path": "", "fail_on": []any{}},
			map[string]any{"duration": "2m"}, ""},
		{"the deprecated operation_kwargs wins", "RunHTTPChaos", map[string]any{"duration": "6s", "operation_kwargs": map[string]any{"duration": "1m", "host": "https://k8s:6443"}},
			map[string]any{"duration": "1m", "host": "https://k8s:6443"}, ""},
		{"a list parameter", "RunHTTPChaos", map[string]any{"fail_on": []any{"slo_breach"}},
			map[string]any{"fail_on": []any{"slo_breach"}}, ""},
		{"a raw manifest", "RunChaos", map[string]any{"manifest": "kind: PodChaos\n"}, map[string]any{"manifest": "kind: PodChaos\n"}, ""},
		{"a run id only", "PauseChaos", map[string]any{"run_id": "r-1"}, map[string]any{"run_id": "r-1"}, ""},
		{"defaults only", "HaltAllChaos", nil, map[string]any{"force_cleanup": false}, ""},
		{"a node that does not exist", "ChaosStatus", map[string]any{"node_ids": []any{"nope"}}, nil, "no node nope"},
		{"a node without the operation", "ChaosStatus", map[string]any{"node_ids": []any{"app"}}, nil, "node app has no operation chaos_actions.status"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := bp.Workflows[tc.workflow]
			if w == nil || !w.Forwards {
				t.Fatalf("workflow %s is not a forwarder workflow", tc.workflow)
			}
			params, err := w.ResolveParameters(tc.given)
			if err != nil {
				t.Fatal(err)
			}
			params["script_path"] = w.Mapping // the parser adds it (dsl_parser/elements/operation.py)
			calls, pyErr := wfctx.Run(t.TempDir(), filepath.Join(dir, w.Mapping), params, nodes)
			if pyErr == wfctx.ErrNoPython {
				t.Fatal(pyErr) // CI installs python3
			}
			goRun, goErr := forwardedTargets(bp, params)
			if tc.refused != "" {
				if pyErr == nil || !strings.Contains(pyErr.Error(), tc.refused) || goErr == nil {
					t.Fatalf("want both to refuse with %q; script: %v, local runner: %v", tc.refused, pyErr, goErr)
				}
				return
			}
			if pyErr != nil || goErr != nil {
				t.Fatalf("script: %v, local runner: %v", pyErr, goErr)
			}
			var py []wfctx.Call
			for _, c := range calls {
				if c.Operation != "" {
					py = append(py, c)
				}
			}
			if len(py) != len(goRun.nodes) {
				t.Fatalf("the script ran %d operations, the local runner %d: %+v vs %v", len(py), len(goRun.nodes), py, goRun.nodes)
			}
			goKwargs := jsonRound(t, goRun.kwargs)
			for i, c := range py {
				if c.Operation != goRun.operation || c.Instance != goRun.nodes[i]+"_1" || !c.AllowKwargsOverride {
					t.Errorf("script ran %s on %s (override %v), local runner %s on %s", c.Operation, c.Instance, c.AllowKwargsOverride, goRun.operation, goRun.nodes[i])
				}
				if !reflect.DeepEqual(c.Kwargs, goKwargs) {
					t.Errorf("inputs differ:\nscript:       %v\nlocal runner: %v", c.Kwargs, goKwargs)
				}
				for k, v := range tc.want {
					if !reflect.DeepEqual(c.Kwargs[k], v) {
						t.Errorf("input %s = %#v, want %#v", k, c.Kwargs[k], v)
					}
				}
				for _, k := range slices.Sorted(maps.Keys(c.Kwargs)) {
					if slices.Contains(forwardingParameters, k) {
						t.Errorf("steering parameter %s was forwarded as an input", k)
					}
				}
			}
		})
	}
}

// forwarded is what the local runner runs for a forwarder workflow.
type forwarded struct {
	operation string
	nodes     []string
	kwargs    map[string]any
}

func forwardedTargets(bp *blueprint.Blueprint, params map[string]any) (forwarded, error) {
	d := &Deployment{Instances: map[string]*NodeInstance{}}
	for _, n := range bp.NodeOrder {
		d.Instances[n+"_1"] = &NodeInstance{ID: n + "_1", Node: n}
	}
	p, err := forwardPlan(bp, d, params)
	if err != nil {
		return forwarded{}, err
	}
	nodes, err := operationTargets(bp, d, p)
	if err != nil {
		return forwarded{}, err
	}
	kwargs, _ := p["operation_kwargs"].(map[string]any)
	op, _ := p["operation"].(string)
	return forwarded{operation: op, nodes: nodes, kwargs: kwargs}, nil
}

func jsonRound(t *testing.T, v any) map[string]any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}
