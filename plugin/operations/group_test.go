package operations_test

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/cloudify-chaos/chaosops/plugin/cloudify/scriptrunner"
	"github.com/cloudify-chaos/chaosops/plugin/internal/testenv"
)

// groupSize is how many deployments an execution group runs at once here.
const groupSize = 20

// TestExecutionGroupRunsEachDeploymentApart is `cfy executions groups start
// RunHTTPChaos -g GROUP --concurrency 20 -p duration=6s -p mode=all`: each
// member deployment runs its own execution, so 20 operation processes of
// the real executable run at once on one manager against one cluster, with
// the inputs workflows/forward.py gives them. They share what a manager's
// operations share (HOME, TMPDIR, the work folder); each deployment has
// its own app namespace and guardrails. Every run must pass with its own
// object and report, and nothing may be left: no chaos object, no
// temporary file.
func TestExecutionGroupRunsEachDeploymentApart(t *testing.T) {
	kubeconfig := adminKubeconfig(t)
	cfg := testenv.Config(t)
	shared := t.TempDir() // the manager's HOME, TMPDIR and work folder
	namespaces := make([]string, groupSize)
	for i := range namespaces {
		namespaces[i], _ = chaosNamespace(t, cfg, 1)
	}
	dyn := dynClient(t)

	type outcome struct {
		res   *scriptrunner.Result
		state *scriptrunner.State
	}
	results := make([]outcome, groupSize)
	var wg sync.WaitGroup
	for i, ns := range namespaces {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, state := opRun{
				Op: "chaos_actions.run_http_chaos", Deployment: fmt.Sprintf("group-member-%02d", i),
				Execution: fmt.Sprintf("exec-group-%02d", i), Instance: fmt.Sprintf("chaos_%02d", i), Root: shared,
				Inputs: map[string]any{
					// the chaos node's inputs in each member deployment
					"kubeconfig": kubeconfig, "namespace": ns, "selector": "app=demo", "port": int64(8080), "path": "/",
					"allowed_namespaces": []any{ns}, "allowed_ports": []any{int64(8080)}, "max_duration": "10m",
					"allow_all_targets": true, "safety_lever": "off", "probe_url": "",
					// what forward.py forwards for -p duration=6s -p mode=all
					"duration": "6s", "mode": "all", "abort": true, "target": "Request",
				},
			}.run(t, t.Context())
			results[i] = outcome{res, state}
		}()
	}
	wg.Wait()

	runIDs, reports := map[string]string{}, map[string]string{}
	for i, o := range results {
		dep := fmt.Sprintf("group-member-%02d", i)
		if o.res.Outcome != scriptrunner.Success {
			t.Errorf("%s: outcome %s: %s\n%s", dep, o.res.Outcome, o.res.Message, chaosLogs(o.res))
			continue
		}
		rp := o.state.Instance.RuntimeProperties
		last, _ := rp["chaos_last_run"].(map[string]any)
		if rp["chaos_verdict"] != "pass" || last == nil {
			t.Errorf("%s: verdict %v, chaos_last_run %v", dep, rp["chaos_verdict"], last)
			continue
		}
		if last["namespace"] != namespaces[i] {
			t.Errorf("%s ran in %v, want its own namespace %s", dep, last["namespace"], namespaces[i])
		}
		id, _ := last["run_id"].(string)
		if other, seen := runIDs[id]; seen || id == "" {
			t.Errorf("%s and %s have run id %q", dep, other, id)
		}
		runIDs[id] = dep
		files, _ := last["report"].(map[string]any)["files"].(map[string]any)
		dir, _ := files["dir"].(string)
		if other, seen := reports[dir]; seen || dir == "" {
			t.Errorf("%s and %s write the report folder %q", dep, other, dir)
		}
		reports[dir] = dep
		if _, err := os.Stat(filepath.Join(dir, "journal.json")); err != nil {
			t.Errorf("%s: %v", dep, err)
		}
	}
	left := 0
	for _, ns := range namespaces {
		left += chaosLeft(t, dyn, ns)
	}
	if left != 0 {
		t.Errorf("%d chaos objects left in the group's namespaces", left)
	}
	tmp, err := os.ReadDir(filepath.Join(shared, "tmp"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range tmp {
		t.Errorf("a run left %s in the shared TMPDIR", e.Name())
	}
	t.Logf("%d runs passed with %d distinct run ids and report folders", len(runIDs), len(reports))
}
