package operations_test

import (
	"fmt"
	"maps"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/cloudify-chaos/chaosops/plugin/chaos"
	"github.com/cloudify-chaos/chaosops/plugin/cloudify/scriptrunner"
	"github.com/cloudify-chaos/chaosops/plugin/internal/cmd/reliability/trial"
	"github.com/cloudify-chaos/chaosops/plugin/internal/faultapi"
	"github.com/cloudify-chaos/chaosops/plugin/internal/testenv"
	"github.com/cloudify-chaos/chaosops/plugin/internal/tfbin"
)

// TestTrialApplyRerunAfterFailureConverges fails kubernetes.apply at one object
// (the API server refuses it, or drops every attempt), then runs it again
// as Cloudify's retry would, with the runtime properties the first attempt
// left: the second run must converge, keep the objects the first created
// (same UIDs), and record each object once in the inventory.
//
// Each case has its own namespace and its own fault proxy (the rules are the
// proxy's), so the cases run in parallel: most of their time is the
// request budget a dropped PATCH is retried within.
func TestTrialApplyRerunAfterFailureConverges(t *testing.T) {
	cfg := testenv.Config(t)
	faults := []struct {
		name  string
		fault faultapi.Fault
	}{{"refused (403)", faultapi.Fault{Status: 403}}}
	if trial.Long() {
		// A dropped request counts as an unreachable API server, retried
		// until the operation's deadline (chaosops_timeout, 1h for
		// kubernetes.apply) nears, then the run asks for a retry: the first
		// attempt gets a deadline of dropTimeout.
		faults = append(faults, struct {
			name  string
			fault faultapi.Fault
		}{"dropped every time", faultapi.Fault{}})
	}
	for _, f := range faults {
		for _, step := range []string{"/configmaps/", "/services/", "/deployments/"} {
			t.Run(fmt.Sprintf("the apply of %s %s", strings.Trim(step, "/"), f.name), func(t *testing.T) {
				t.Parallel()
				start := time.Now()
				proxy, err := faultapi.Start(cfg)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(proxy.Close)
				ns := testenv.Namespace(t, cfg)
				manifest := fmt.Sprintf(`apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: %[1]s}
data: {a: "1"}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: %[1]s}
spec: {ports: [{port: 80}], selector: {app: web}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: %[1]s}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: "web:1"}]}
`, ns)
				inputs := map[string]any{"kubeconfig": proxy.Kubeconfig("any-token"), "manifest": manifest}
				firstInputs := maps.Clone(inputs)
				if f.fault.Status == 0 {
					firstInputs["chaosops_timeout"] = dropTimeout.String()
				}
				proxy.SetRules(faultapi.Rule{Method: http.MethodPatch, Path: step, Times: -1, Fault: f.fault})
				first, state := opRun{Op: "kubernetes.apply", Inputs: firstInputs}.run(t, t.Context())
				proxy.SetRules()
				if first.Outcome == scriptrunner.Success {
					t.Fatalf("the first apply succeeded despite the fault\n%s", chaosLogs(first))
				}
				uids := liveUIDs(t, ns)
				second, state2 := opRun{Op: "kubernetes.apply", Inputs: inputs, Props: state.Instance.RuntimeProperties}.run(t, t.Context())
				if second.Outcome != scriptrunner.Success {
					t.Fatalf("the re-run did not converge: %s %s\n%s", second.Outcome, second.Message, chaosLogs(second))
				}
				after := liveUIDs(t, ns)
				for ref, uid := range uids {
					if after[ref] != uid {
						t.Errorf("%s was replaced by the re-run (UID %s → %s)", ref, uid, after[ref])
					}
				}
				if len(after) != 3 {
					t.Errorf("objects after the re-run: %v, want 3", after)
				}
				inv, _ := state2.Instance.RuntimeProperties["kubernetes_inventory"].(map[string]any)
				entries, _ := inv["entries"].([]any)
				seen := map[string]int{}
				for _, e := range entries {
					seen[toJSON(e.(map[string]any)["name"])+toJSON(e.(map[string]any)["kind"])]++
				}
				for k, n := range seen {
					if n != 1 {
						t.Errorf("inventory lists %s %d times", k, n)
					}
				}
				if len(entries) != 3 {
					t.Errorf("inventory has %d entries, want 3: %v", len(entries), entries)
				}
				trial.Record(t, trial.Outcome{Kind: "idempotency: kubernetes.apply re-run after a failed step", Outcome: "converged after " + string(first.Outcome),
					ObjectsLeft: max(0, len(after)-3), Seconds: time.Since(start).Seconds()})
			})
		}
	}
}

// dropTimeout is the deadline of a kubernetes.apply whose every PATCH of one
// kind is dropped: long enough for several retries of the unreachable
// server, short enough not to hold the trial for the default hour.
const dropTimeout = 20 * time.Second

// liveUIDs maps Kind/name to UID for the objects of the apply test.
func liveUIDs(t *testing.T, ns string) map[string]string {
	t.Helper()
	dyn := dynClient(t)
	out := map[string]string{}
	for _, r := range []schema.GroupVersionResource{
		{Version: "v1", Resource: "configmaps"}, {Version: "v1", Resource: "services"}, {Group: "apps", Version: "v1", Resource: "deployments"},
	} {
		l, err := dyn.Resource(r).Namespace(ns).List(t.Context(), metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range l.Items {
			if o.GetName() == "kube-root-ca.crt" {
				continue
			}
			out[r.Resource+"/"+o.GetName()] = string(o.GetUID())
		}
	}
	return out
}

// TestTrialChaosRetryAdoptsItsObject kills a chaos run at a step (after the
// object is created, while it is injected, while it recovers) and runs the
// same operation again, as Cloudify's retry does: the retry derives the
// same run id, adopts the object instead of creating a second, and ends
// with verdict pass and nothing left.
//
// The steps are independent (a namespace and demo app each) and run in
// parallel.
func TestTrialChaosRetryAdoptsItsObject(t *testing.T) {
	cfg := testenv.Config(t)
	kubeconfig := adminKubeconfig(t)
	steps := []string{"created (duration"}
	if trial.Long() {
		steps = append(steps, "targets injected after", "duration over")
	}
	for i, step := range steps {
		t.Run(fmt.Sprintf("killed once %q is logged", step), func(t *testing.T) {
			t.Parallel()
			start := time.Now()
			ns, dyn := chaosNamespace(t, cfg, 1)
			dep := fmt.Sprintf("rel-adopt-%d", i)
			exec := fmt.Sprintf("exec-adopt-%d-%d", i, time.Now().UnixNano())
			tracker := trackUIDs(t, cfg, ns, chaos.LabelDeployment+"="+dep)
			inputs := map[string]any{"kubeconfig": kubeconfig, "namespace": ns, "manifest": httpChaosManifest(ns, 5*time.Second)}
			watch := newPhaseWatch(step)
			first, state := opRun{Op: "chaos_actions.run", Deployment: dep, Execution: exec, Inputs: inputs, OnLine: watch.onLine,
				OnStart: killWhen(t, watch.lines[step])}.run(t, t.Context())
			if !first.Signaled {
				t.Fatalf("the first attempt was not killed: %s\n%s", first.Outcome, chaosLogs(first))
			}
			retry, state2 := opRun{Op: "chaos_actions.run", Deployment: dep, Execution: exec, Inputs: inputs,
				Props: state.Instance.RuntimeProperties}.run(t, t.Context())
			verdict, _ := state2.Instance.RuntimeProperties["chaos_verdict"].(string)
			if retry.Outcome != scriptrunner.Success || verdict != string(chaos.VerdictPass) {
				t.Errorf("retry: outcome %s, verdict %q: %s\n%s", retry.Outcome, verdict, retry.Message, chaosLogs(retry))
			}
			if !strings.Contains(chaosLogs(retry), "adopted the object created by an earlier attempt") {
				t.Errorf("the retry did not adopt the object\n%s", chaosLogs(retry))
			}
			if n := tracker.seen(); n != 1 {
				t.Errorf("%d distinct chaos objects existed, want exactly 1", n)
			}
			left := deploymentObjects(t, dyn, ns, dep)
			if left != 0 {
				t.Errorf("%d chaos objects left", left)
			}
			trial.Record(t, trial.Outcome{Kind: "idempotency: chaos run retried after kill -9", Outcome: "adopted, verdict " + verdict, ObjectsLeft: left, Seconds: time.Since(start).Seconds()})
		})
	}
}

// TestTrialTerraformApplyRerunAfterKillConverges kill -9s terraform.apply while
// a resource is being created (terraform itself runs on, as an orphan, and
// finishes), then applies again: the state converges to exactly the
// module's resources, none tainted or duplicated.
func TestTrialTerraformApplyRerunAfterKillConverges(t *testing.T) {
	tf := tfbin.Path(t)
	root := t.TempDir()
	workdir := filepath.Join(root, "work", "dep", "infra")
	inputs := map[string]any{
		"module": "slow", "module_files": []any{"main.tf"}, "variables": map[string]any{"seconds": int64(3)},
		"terraform_binary": tf, "workdir": workdir,
	}
	start := time.Now()
	watch := newPhaseWatch("(local-exec): started")
	first, _ := opRun{Op: "terraform.apply", Inputs: inputs, Root: root, Resources: blueprintDir(), OnLine: watch.onLine,
		OnStart: killWhen(t, watch.lines["(local-exec): started"])}.run(t, t.Context())
	if !first.Signaled {
		t.Fatalf("the first apply was not killed: %s %s\n%s", first.Outcome, first.Message, chaosLogs(first))
	}
	// Cloudify retries as the operation asks: a state still locked by the
	// killed run's terraform asks for a retry, the others must converge.
	var second *scriptrunner.Result
	var state *scriptrunner.State
	for attempt := 1; ; attempt++ {
		second, state = opRun{Op: "terraform.apply", Inputs: inputs, Root: root, Resources: blueprintDir()}.run(t, t.Context())
		if second.Outcome != scriptrunner.Retry || attempt == 10 {
			break
		}
		t.Logf("attempt %d asked for a retry: %s", attempt, second.Message)
		time.Sleep(2 * time.Second)
	}
	if second.Outcome != scriptrunner.Success {
		t.Fatalf("the re-run did not converge: %s %s\n%s", second.Outcome, second.Message, chaosLogs(second))
	}
	tfProp, _ := state.Instance.RuntimeProperties["terraform"].(map[string]any)
	rs, _ := tfProp["resources"].([]any)
	if len(rs) != 1 || rs[0].(map[string]any)["address"] != "terraform_data.slow" || rs[0].(map[string]any)["tainted"] == true {
		t.Errorf("resources after the re-run: %v, want one untainted terraform_data.slow", tfProp["resources"])
	}
	trial.Record(t, trial.Outcome{Kind: "idempotency: terraform.apply re-run after kill -9", Outcome: "converged", Seconds: time.Since(start).Seconds()})
}

// TestTrialHelmInstallRerunAfterFailureConverges makes the API server refuse
// the chart's Deployment during helm.install, then runs the operation
// again: the release converges to deployed with one object of each kind,
// the objects of the first attempt kept.
func TestTrialHelmInstallRerunAfterFailureConverges(t *testing.T) {
	cfg := testenv.Config(t)
	ns := testenv.Namespace(t, cfg)
	proxy, err := faultapi.Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(proxy.Close)
	start := time.Now()
	blueprint := helmBlueprint(t)
	inputs := map[string]any{"kubeconfig": proxy.Kubeconfig("any-token"), "release": "demo", "namespace": ns,
		"chart": "charts/chaosops-demo-0.1.0.tgz", "timeout": "60s"}
	// Helm 4 creates with server-side apply (PATCH).
	proxy.SetRules(faultapi.Rule{Method: http.MethodPatch, Path: "/deployments", Times: -1, Fault: faultapi.Fault{Status: 403}})
	first, state := opRun{Op: "helm.install", Inputs: inputs, Resources: blueprint}.run(t, t.Context())
	proxy.SetRules()
	if first.Outcome == scriptrunner.Success {
		t.Fatalf("the first install succeeded despite the fault\n%s", chaosLogs(first))
	}
	settings := uidOf(t, schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}, ns, "demo-settings")
	second, state2 := opRun{Op: "helm.install", Inputs: inputs, Resources: blueprint, Props: state.Instance.RuntimeProperties}.run(t, t.Context())
	if second.Outcome != scriptrunner.Success {
		t.Fatalf("the re-run did not converge: %s %s\n%s", second.Outcome, second.Message, chaosLogs(second))
	}
	if rel, _ := state2.Instance.RuntimeProperties["helm_release"].(map[string]any); rel["status"] != "deployed" {
		t.Errorf("helm_release = %v, want status deployed", rel)
	}
	if after := uidOf(t, schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}, ns, "demo-settings"); settings != "" && after != settings {
		t.Errorf("ConfigMap/%s/demo-settings was replaced by the re-run", ns)
	}
	deployments, err := dynClient(t).Resource(schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}).Namespace(ns).List(t.Context(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(deployments.Items) != 1 {
		t.Errorf("%d Deployments after the re-run, want 1", len(deployments.Items))
	}
	trial.Record(t, trial.Outcome{Kind: "idempotency: helm.install re-run after a failed step", Outcome: "converged after " + string(first.Outcome),
		ObjectsLeft: max(0, len(deployments.Items)-1), Seconds: time.Since(start).Seconds()})
}

// uidOf returns an object's UID, or "" when it does not exist.
func uidOf(t *testing.T, gvr schema.GroupVersionResource, ns, name string) string {
	t.Helper()
	o, err := dynClient(t).Resource(gvr).Namespace(ns).Get(t.Context(), name, metav1.GetOptions{})
	if err != nil {
		return ""
	}
	return string(o.GetUID())
}
