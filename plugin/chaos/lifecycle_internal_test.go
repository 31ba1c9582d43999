package chaos

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/cloudify-chaos/chaosops/plugin/chaos/api"
)

func TestNamespaceFilterSetting(t *testing.T) {
	env := func(kv ...any) map[string]any {
		return map[string]any{"name": "chaos-mesh", "env": kv}
	}
	val := func(v string) any { return map[string]any{"name": filterNamespaceEnv, "value": v} }
	cases := []struct {
		name       string
		containers []any
		required   bool
		says       string
	}{
		{"true, as the chart renders enableFilterNamespace: true", []any{env(val("true"))}, true, "filters namespaces"},
		{"any ParseBool truth, like envconfig", []any{env(val("1"))}, true, "filters namespaces"},
		{"false", []any{env(val("false"))}, false, "no opt-in needed"},
		{"not set: Chaos Mesh's default false", []any{env(map[string]any{"name": "CLUSTER_SCOPED", "value": "true"})}, false, "default: false"},
		{"from valueFrom: unknown, so required", []any{env(map[string]any{"name": filterNamespaceEnv, "valueFrom": map[string]any{}})}, true, "valueFrom"},
		{"not a bool: unknown, so required", []any{env(val("yes please"))}, true, "not a bool"},
		{"envFrom may set it: required", []any{map[string]any{"name": "chaos-mesh", "envFrom": []any{map[string]any{"configMapRef": map[string]any{"name": "x"}}}}}, true, "envFrom"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := &unstructured.Unstructured{Object: map[string]any{"spec": map[string]any{"template": map[string]any{"spec": map[string]any{"containers": tc.containers}}}}}
			required, says := namespaceFilter(d, "chaos-mesh/chaos-controller-manager")
			if required != tc.required || !strings.Contains(says, tc.says) {
				t.Errorf("namespaceFilter = %v, %q; want %v, …%s…", required, says, tc.required, tc.says)
			}
		})
	}
}

func TestRecordWords(t *testing.T) {
	cases := []struct {
		rec  api.Record
		want string
	}{
		{api.Record{Phase: api.PhaseNotInjected}, "not yet injected"},
		{api.Record{Phase: api.PhaseNotInjected, InjectedCount: 1, RecoveredCount: 1}, "recovered"},
		{api.Record{Phase: api.PhaseNotInjectedWait}, "waiting for the daemon (Not Injected/Wait), never injected"},
		{api.Record{Phase: api.PhaseInjected, InjectedCount: 1}, "still injected"},
		{api.Record{Phase: api.PhaseInjectedWait, InjectedCount: 1}, "still injected, waiting for the daemon to recover it (Injected/Wait)"},
		{api.Record{Phase: "Injected/Other"}, "phase Injected/Other"},
	}
	for _, tc := range cases {
		if got := recordWords(tc.rec); got != tc.want {
			t.Errorf("recordWords(%s) = %q, want %q", tc.rec.Phase, got, tc.want)
		}
	}
	for n, want := range map[int]string{0: "0 targets", 1: "1 target", 2: "2 targets"} {
		if got := plural(n, "target"); got != want {
			t.Errorf("plural(%d) = %q, want %q", n, got, want)
		}
	}
	if got := plural(2, "entry"); got != "2 entries" {
		t.Errorf("plural(2, entry) = %q", got)
	}
}

func TestPermanentRecordFailure(t *testing.T) {
	failed := func(msg string) []api.RecordEvent {
		return []api.RecordEvent{{Type: api.EventFailed, Operation: api.OperationApply, Message: msg}}
	}
	obj := func(desired api.DesiredPhase, recs ...api.Record) *api.Object {
		o := &api.Object{}
		o.Status.Experiment.DesiredPhase, o.Status.Experiment.Records = desired, recs
		return o
	}
	daemonless := "failed to apply for pod ns/demo-1: cannot find daemonIP on node kwok-node-0"
	refused := `failed to apply for pod ns/demo-1: rpc error: code = Unavailable desc = connection error: desc = "transport: Error while dialing: dial tcp 127.0.0.1:31767: connect: connection refused"`
	cases := []struct {
		name string
		obj  *api.Object
		want bool
	}{
		{"a record waiting for a daemon that does not exist", obj(api.DesiredRun, api.Record{Id: "ns/demo-1", Phase: api.PhaseNotInjectedWait, Events: failed(daemonless)}), true},
		{"a transient failure", obj(api.DesiredRun, api.Record{Id: "ns/demo-1", Phase: api.PhaseNotInjectedWait, Events: failed("rpc error: code = Unavailable")}), false},
		{"an old failure followed by success", obj(api.DesiredRun, api.Record{Id: "ns/demo-1", Phase: api.PhaseInjected, Events: append(failed(daemonless), api.RecordEvent{Type: api.EventSucceeded, Operation: api.OperationApply})}), false},
		{"a record already where it is driven", obj(api.DesiredRun, api.Record{Id: "ns/demo-1", Phase: api.PhaseInjected, Events: failed(daemonless)}), false},
		{"one refused connection is not yet permanent", obj(api.DesiredRun, api.Record{Id: "ns/demo-1", Phase: api.PhaseNotInjectedWait, Events: failed(refused)}), false},
		{"three refused connections in a row are", obj(api.DesiredRun, api.Record{Id: "ns/demo-1", Phase: api.PhaseNotInjectedWait, Events: slices.Concat(failed("status(500)"), failed(refused), failed(refused), failed(refused))}), true},
		{"a refusal run broken by another failure is not", obj(api.DesiredRun, api.Record{Id: "ns/demo-1", Phase: api.PhaseNotInjectedWait, Events: slices.Concat(failed(refused), failed("status(500)"), failed(refused), failed(refused))}), false},
		{"one of two records fails for good", obj(api.DesiredRun, api.Record{Id: "ns/demo-0", Phase: api.PhaseInjected}, api.Record{Id: "ns/demo-1", Phase: api.PhaseNotInjected, Events: failed(`pods "demo-1" not found`)}), true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			msg, got := permanentRecordFailure(tc.obj)
			if got != tc.want {
				t.Errorf("permanentRecordFailure = %v (%q), want %v", got, msg, tc.want)
			}
		})
	}
}

func TestWebhookDenialIsRecognised(t *testing.T) {
	gr := schema.GroupResource{Group: "chaos-mesh.org", Resource: "httpchaos"}
	denied := apierrors.NewForbidden(gr, "x", errors.New(`admission webhook "vauth.kb.io" denied the request: alice is forbidden on namespace app`))
	if m, ok := webhookDenial(denied); !ok || !strings.Contains(m, "alice is forbidden") {
		t.Errorf("denial not recognised: %q %v", m, ok)
	}
	if _, ok := webhookDenial(apierrors.NewForbidden(gr, "x", errors.New("User \"bob\" cannot create resource"))); ok {
		t.Error("an RBAC refusal was taken for a webhook denial")
	}
	if _, ok := webhookDenial(errors.New(`failed calling webhook "vauth.kb.io": connection refused`)); ok {
		t.Error("an unreachable webhook was taken for a denial")
	}
}

func TestCleanupBudget(t *testing.T) {
	cases := []struct {
		name  string
		opts  RunOptions
		least time.Duration
		most  time.Duration
	}{
		{"a cancel waits as long as a delete", RunOptions{DeleteTimeout: time.Minute}, time.Minute + cleanupReserve, time.Minute + 5*time.Second},
		{"with force_cleanup, the forced waits too", RunOptions{DeleteTimeout: time.Minute, ForceCleanup: true}, 3*time.Minute + cleanupReserve, 3*time.Minute + 5*time.Second},
		{"a caller's grace caps it", RunOptions{DeleteTimeout: time.Minute, CleanupGrace: 15 * time.Second}, 15 * time.Second, 15 * time.Second},
		{"a grace above the delete timeout does not lengthen it", RunOptions{DeleteTimeout: 3 * time.Second, CleanupGrace: time.Minute}, 3*time.Second + cleanupReserve, 8 * time.Second},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := (&run{opts: tc.opts}).cleanupBudget(); got < tc.least || got > tc.most {
				t.Errorf("budget %s, want %s..%s", got, tc.least, tc.most)
			}
		})
	}
}
