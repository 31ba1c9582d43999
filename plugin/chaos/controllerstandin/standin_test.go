package controllerstandin

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/cloudify-chaos/chaosops/plugin/chaos/api"
	"github.com/cloudify-chaos/chaosops/plugin/internal/testenv"
	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
)

// selecting returns a selector of the pods labelled app=app, in mode all.
func selecting(app string) api.PodSelector {
	return api.PodSelector{Selector: api.PodSelectorSpec{LabelSelectors: map[string]string{"app": app}}, Mode: api.ModeAll}
}

// specFor returns a minimal spec of kind aimed at the pods labelled app=app.
func specFor(kind, app string) api.Spec {
	sel := selecting(app)
	csel := api.ContainerSelector{PodSelector: sel}
	switch kind {
	case "HTTPChaos":
		return &api.HTTPChaosSpec{PodSelector: sel, Target: api.HTTPRequest, Port: 80, Abort: ptr.To(true)}
	case "PodChaos":
		return &api.PodChaosSpec{ContainerSelector: csel, Action: api.PodFailure, CommonSpec: api.CommonSpec{Duration: ptr.To("10m")}}
	case "NetworkChaos":
		return &api.NetworkChaosSpec{PodSelector: sel, Action: api.NetworkActionDelay, Delay: &api.NetworkDelay{Latency: "100ms"}}
	case "StressChaos":
		return &api.StressChaosSpec{ContainerSelector: csel, Stressors: &api.Stressors{CPU: &api.CPUStressor{Workers: 1}}}
	case "IOChaos":
		return &api.IOChaosSpec{ContainerSelector: csel, Action: api.IOLatency, VolumePath: "/data", Delay: "10ms"}
	case "DNSChaos":
		return &api.DNSChaosSpec{ContainerSelector: csel, Action: api.DNSError}
	case "TimeChaos":
		return &api.TimeChaosSpec{ContainerSelector: csel, TimeOffset: "-5m"}
	case "JVMChaos":
		return &api.JVMChaosSpec{ContainerSelector: csel, Action: api.JVMGC}
	case "KernelChaos":
		return &api.KernelChaosSpec{ContainerSelector: csel}
	}
	panic("no spec for " + kind)
}

func newChaos(name string, spec api.Spec, annotations map[string]string) *api.Object {
	o := api.NewObject("", name, spec)
	o.Annotations = annotations
	return o
}

func ids(o *api.Object) []string {
	var out []string
	for _, r := range o.Status.Experiment.Records {
		out = append(out, r.SelectorKey+" "+r.Id)
	}
	sort.Strings(out)
	return out
}

// history lists a record's events as "Operation/Type".
func history(r api.Record) []string {
	var out []string
	for _, e := range r.Events {
		out = append(out, string(e.Operation)+"/"+string(e.Type))
		if e.Timestamp.IsZero() {
			out = append(out, "(no timestamp)")
		}
	}
	return out
}

func TestInjection(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{})
	pods := e.deployment("web", 2, "app", "sidecar")
	podIDs := func(suffix string) []string {
		var out []string
		for _, p := range pods {
			out = append(out, ". "+e.ns+"/"+p.Name+suffix)
		}
		sort.Strings(out)
		return out
	}

	perContainer := map[string]bool{"StressChaos": true, "IOChaos": true, "DNSChaos": true, "TimeChaos": true, "JVMChaos": true}
	for _, k := range api.Kinds() {
		t.Run(k.Name+" is selected and injected with records in Chaos Mesh's id format", func(t *testing.T) {
			o := newChaos(strings.ToLower(k.Name), specFor(k.Name, "web"), nil)
			start := time.Now()
			e.create(o)
			got := e.waitFor(o, "AllInjected", injected)
			t.Logf("%s: create → AllInjected in %v", k.Name, time.Since(start).Round(time.Millisecond))

			want := podIDs("")
			if perContainer[k.Name] {
				want = podIDs("/app") // the first container when none is named
			}
			if diff := cmp.Diff(want, ids(got)); diff != "" {
				t.Errorf("records (-want +got):\n%s", diff)
			}
			if !slices.Contains(got.Finalizers, api.RecordsFinalizer) || got.Status.Experiment.DesiredPhase != api.DesiredRun {
				t.Errorf("state: %s", summary(got))
			}
			if s, _ := api.Condition(got, api.ConditionPaused); s != "False" {
				t.Errorf("Paused = %q", s)
			}
			if s, _ := api.Condition(got, api.ConditionAllRecovered); s != "False" {
				t.Errorf("AllRecovered = %q", s)
			}
			for _, r := range got.Status.Experiment.Records {
				if r.Phase != api.PhaseInjected || r.InjectedCount != 1 || !slices.Equal(history(r), []string{"Apply/Succeeded"}) {
					t.Errorf("record %s: phase %s, injected %d, events %v", r.Id, r.Phase, r.InjectedCount, history(r))
				}
			}
		})
	}

	t.Run("named containers become one record each", func(t *testing.T) {
		spec := specFor("StressChaos", "web").(*api.StressChaosSpec)
		spec.ContainerNames = []string{"sidecar", "app"}
		o := newChaos("two-containers", spec, nil)
		e.create(o)
		got := e.waitFor(o, "AllInjected", injected)
		want := append(podIDs("/app"), podIDs("/sidecar")...)
		sort.Strings(want)
		if diff := cmp.Diff(want, ids(got)); diff != "" {
			t.Errorf("records (-want +got):\n%s", diff)
		}
	})

	t.Run("a NetworkChaos target selector adds .Target records", func(t *testing.T) {
		db := e.deployment("db", 1, "db")
		spec := specFor("NetworkChaos", "web").(*api.NetworkChaosSpec)
		spec.Target = &api.PodSelector{Selector: api.PodSelectorSpec{LabelSelectors: map[string]string{"app": "db"}}, Mode: api.ModeOne}
		o := newChaos("with-target", spec, nil)
		e.create(o)
		got := e.waitFor(o, "AllInjected", injected)
		want := append(podIDs(""), ".Target "+e.ns+"/"+db[0].Name)
		sort.Strings(want)
		if diff := cmp.Diff(want, ids(got)); diff != "" {
			t.Errorf("records (-want +got):\n%s", diff)
		}
	})

	t.Run("mode fixed selects value pods", func(t *testing.T) {
		e.deployment("many", 3, "app")
		spec := specFor("HTTPChaos", "many").(*api.HTTPChaosSpec)
		spec.Mode, spec.Value = api.ModeFixed, "2"
		o := newChaos("fixed-two", spec, nil)
		e.create(o)
		if got := e.waitFor(o, "AllInjected", injected); len(got.Status.Experiment.Records) != 2 {
			t.Errorf("records: %s", recordString(got.Status.Experiment.Records))
		}
	})

	t.Run("a selector without pods selects nothing and says so", func(t *testing.T) {
		o := newChaos("nobody", specFor("HTTPChaos", "nobody"), nil)
		e.create(o)
		got := e.waitFor(o, "Selected=False", func(o *api.Object, _ bool) bool {
			s, ok := api.Condition(o, api.ConditionSelected)
			return ok && s == "False" && o.Status.Experiment.DesiredPhase == api.DesiredRun
		})
		if got.Status.Experiment.Records != nil {
			t.Errorf("records: %s", recordString(got.Status.Experiment.Records))
		}
		e.event(o, "Failed", "Failed to select targets: no pod is selected")
	})

	t.Run("a pod that is not Running cannot be injected", func(t *testing.T) {
		spec := specFor("HTTPChaos", "").(*api.HTTPChaosSpec)
		pending := e.pendingPod("pending")
		spec.Selector = api.PodSelectorSpec{Pods: map[string][]string{e.ns: {pending}}}
		o := newChaos("pending", spec, nil)
		e.create(o)
		got := e.waitFor(o, "a failed injection", failedEvent(api.OperationApply))
		if s, _ := api.Condition(got, api.ConditionAllInjected); s != "False" {
			t.Errorf("AllInjected = %q", s)
		}
		if msg := got.Status.Experiment.Records[0].Events[0].Message; !strings.Contains(msg, "is Pending, not Running") {
			t.Errorf("message %q", msg)
		}
	})
}

// failedEvent waits for a Failed event of operation on the first record.
func failedEvent(operation api.RecordOperation) func(*api.Object, bool) bool {
	return func(o *api.Object, deleted bool) bool {
		for _, r := range o.Status.Experiment.Records {
			for _, ev := range r.Events {
				if ev.Operation == operation && ev.Type == api.EventFailed {
					return true
				}
			}
		}
		return false
	}
}

func TestDurationEnds(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{})
	e.deployment("web", 1, "app")
	spec := specFor("HTTPChaos", "web")
	spec.Common().Duration = ptr.To("2s")
	o := newChaos("short", spec, nil)
	e.create(o)
	e.waitFor(o, "AllInjected", injected)
	got := e.waitFor(o, "AllRecovered after the duration", recovered)
	if s, _ := api.Condition(got, api.ConditionAllInjected); s != "False" || got.Status.Experiment.DesiredPhase != api.DesiredStop {
		t.Errorf("state: %s", summary(got))
	}
	r := got.Status.Experiment.Records[0]
	if !slices.Equal(history(r), []string{"Apply/Succeeded", "Recover/Succeeded"}) || r.RecoveredCount != 1 {
		t.Errorf("record: %v, recovered %d", history(r), r.RecoveredCount)
	}
	elapsed := r.Events[1].Timestamp.Sub(got.CreationTimestamp.Time)
	t.Logf("recovered %v after creation (duration 2s, timestamps in whole seconds)", elapsed)
	if elapsed < 2*time.Second || elapsed > 5*time.Second {
		t.Errorf("recovered %v after creation, want about 2s", elapsed)
	}
	e.event(o, "TimeUp", "Time up according to the duration")
}

func TestPauseAndResume(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{})
	e.deployment("web", 1, "app")
	o := newChaos("pausable", specFor("HTTPChaos", "web"), nil)
	e.create(o)
	e.waitFor(o, "AllInjected", injected)

	e.patch(o, fmt.Sprintf(`{"metadata":{"annotations":{%q:"true"}}}`, api.PauseAnnotation))
	got := e.waitFor(o, "Paused and AllRecovered", is(map[api.ConditionType]string{
		api.ConditionPaused: "True", api.ConditionAllRecovered: "True", api.ConditionAllInjected: "False"}))
	if got.Status.Experiment.DesiredPhase != api.DesiredStop {
		t.Errorf("state: %s", summary(got))
	}

	e.patch(o, fmt.Sprintf(`{"metadata":{"annotations":{%q:null}}}`, api.PauseAnnotation))
	got = e.waitFor(o, "resumed and AllInjected", is(map[api.ConditionType]string{
		api.ConditionPaused: "False", api.ConditionAllInjected: "True"}))
	r := got.Status.Experiment.Records[0]
	if r.InjectedCount != 2 || r.RecoveredCount != 1 ||
		!slices.Equal(history(r), []string{"Apply/Succeeded", "Recover/Succeeded", "Apply/Succeeded"}) {
		t.Errorf("record: injected %d, recovered %d, events %v", r.InjectedCount, r.RecoveredCount, history(r))
	}
}

func TestDeletion(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{})
	e.deployment("web", 1, "app")

	t.Run("deleting recovers the records, then removes the finalizer", func(t *testing.T) {
		o := newChaos("deleted", specFor("HTTPChaos", "web"), nil)
		e.create(o)
		e.waitFor(o, "AllInjected", injected)
		start := time.Now()
		e.delete(o)
		last := e.waitFor(o, "deletion", gone)
		t.Logf("delete → gone in %v", time.Since(start).Round(time.Millisecond))
		r := last.Status.Experiment.Records[0]
		if r.Phase != api.PhaseNotInjected || !slices.Equal(history(r), []string{"Apply/Succeeded", "Recover/Succeeded"}) {
			t.Errorf("last state before deletion: %s, events %v", summary(last), history(r))
		}
	})

	t.Run("a sticky finalizer stays after recovery until cleanFinalizer is forced", func(t *testing.T) {
		o := newChaos("sticky", specFor("HTTPChaos", "web"), map[string]string{StickyFinalizerAnnotation: "true"})
		e.create(o)
		e.waitFor(o, "AllInjected", injected)
		e.delete(o)
		got := e.waitFor(o, "AllRecovered while deleting", func(o *api.Object, deleted bool) bool {
			return !deleted && o.DeletionTimestamp != nil && recovered(o, false)
		})
		if !slices.Contains(got.Finalizers, api.RecordsFinalizer) {
			t.Fatalf("finalizer removed: %s", summary(got))
		}
		e.patch(o, fmt.Sprintf(`{"metadata":{"annotations":{%q:%q}}}`, api.CleanFinalizerAnnotation, api.CleanFinalizerForced))
		e.waitFor(o, "deletion after forcing", gone)
	})

	t.Run("a failing recovery holds the finalizer, even forced, until recovery succeeds", func(t *testing.T) {
		o := newChaos("unrecoverable", specFor("HTTPChaos", "web"), map[string]string{FailRecoveryAnnotation: "chaos-daemon unreachable"})
		e.create(o)
		e.waitFor(o, "AllInjected", injected)
		e.delete(o)
		got := e.waitFor(o, "a failed recovery", failedEvent(api.OperationRecover))
		if msg := got.Status.Experiment.Records[0].Events[1].Message; msg != "chaos-daemon unreachable" {
			t.Errorf("message %q", msg)
		}
		// Chaos Mesh's pipeline stops at the failing records step, so the
		// clean step never sees the forced annotation.
		e.patch(o, fmt.Sprintf(`{"metadata":{"annotations":{%q:%q}}}`, api.CleanFinalizerAnnotation, api.CleanFinalizerForced))
		e.waitFor(o, "another failed recovery after forcing", func(o *api.Object, deleted bool) bool {
			return !deleted && o.Annotations[api.CleanFinalizerAnnotation] == api.CleanFinalizerForced &&
				len(o.Status.Experiment.Records[0].Events) >= 3
		})
		e.patch(o, fmt.Sprintf(`{"metadata":{"annotations":{%q:null}}}`, FailRecoveryAnnotation))
		e.waitFor(o, "deletion once recovery succeeds", gone)
	})
}

func TestFailedInjection(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name        string
		opts        Options
		annotations map[string]string
		message     string
	}{
		{"the annotation's value is the failure message", Options{}, map[string]string{FailInjectionAnnotation: "chaos-daemon: connection refused"}, "chaos-daemon: connection refused"},
		{"the option fails every object", Options{FailInjection: true}, nil, DefaultFailureMessage},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, tc.opts)
			e.deployment("web", 1, "app")
			o := newChaos("failing", specFor("HTTPChaos", "web"), tc.annotations)
			e.create(o)
			got := e.waitFor(o, "a failed injection", failedEvent(api.OperationApply))
			got = e.waitFor(o, "conditions after the failure", is(map[api.ConditionType]string{
				api.ConditionSelected: "True", api.ConditionAllInjected: "False", api.ConditionAllRecovered: "True"}))
			r := got.Status.Experiment.Records[0]
			if r.Phase != api.PhaseNotInjected || r.InjectedCount != 0 || r.Events[0].Message != tc.message {
				t.Errorf("record: phase %s, injected %d, events %+v", r.Phase, r.InjectedCount, r.Events)
			}
			e.event(o, "Failed", "Failed to apply chaos: "+tc.message)
		})
	}

	t.Run("removing the annotation lets the retry succeed", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, Options{})
		e.deployment("web", 1, "app")
		o := newChaos("flaky", specFor("HTTPChaos", "web"), map[string]string{FailInjectionAnnotation: "true"})
		e.create(o)
		e.waitFor(o, "a failed injection", failedEvent(api.OperationApply))
		e.patch(o, fmt.Sprintf(`{"metadata":{"annotations":{%q:null}}}`, FailInjectionAnnotation))
		got := e.waitFor(o, "AllInjected", injected)
		h := history(got.Status.Experiment.Records[0])
		if h[0] != "Apply/Failed" || h[len(h)-1] != "Apply/Succeeded" {
			t.Errorf("events %v", h)
		}
	})
}

func TestSlowInjection(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{})
	e.deployment("web", 1, "app")
	o := newChaos("slow", specFor("HTTPChaos", "web"), map[string]string{InjectionDelayAnnotation: "1500ms"})
	start := time.Now()
	e.create(o)
	got := e.waitFor(o, "a waiting record", func(o *api.Object, _ bool) bool {
		return len(o.Status.Experiment.Records) == 1 && o.Status.Experiment.Records[0].Phase == PhaseWaitInjected
	})
	if s, _ := api.Condition(got, api.ConditionAllInjected); s == "True" {
		t.Errorf("AllInjected while waiting: %s", summary(got))
	}
	e.waitFor(o, "Selected while waiting", is(map[api.ConditionType]string{
		api.ConditionSelected: "True", api.ConditionAllInjected: "False", api.ConditionAllRecovered: "False"}))
	e.waitFor(o, "AllInjected", injected)
	elapsed := time.Since(start)
	t.Logf("create → AllInjected with a 1.5s injection delay: %v", elapsed.Round(time.Millisecond))
	if elapsed < 1500*time.Millisecond {
		t.Errorf("injected after %v, before the delay", elapsed)
	}
}

func TestNamespaceFilter(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{NamespaceFilter: true})
	e.deployment("web", 1, "app")

	before := newChaos("before", specFor("HTTPChaos", "web"), nil)
	e.create(before)
	e.waitFor(before, "Selected=False", func(o *api.Object, _ bool) bool {
		s, ok := api.Condition(o, api.ConditionSelected)
		return ok && s == "False" && o.Status.Experiment.DesiredPhase == api.DesiredRun
	})
	e.event(before, "Failed", "no pod is selected")

	e.patchNamespace(fmt.Sprintf(`{"metadata":{"annotations":{%q:%q}}}`, api.InjectAnnotation, api.InjectEnabled))
	after := newChaos("after", specFor("HTTPChaos", "web"), nil)
	e.create(after)
	e.waitFor(after, "AllInjected in an enabled namespace", injected)
}

func TestObjectsThatAreNotMine(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{})
	e.deployment("web", 1, "app")

	// A namespace assigned to an instance that is not running.
	orphanNS := testenv.Namespace(t, e.cfg)
	_, err := e.kube.CoreV1().Namespaces().Patch(t.Context(), orphanNS, types.MergePatchType,
		[]byte(fmt.Sprintf(`{"metadata":{"labels":{%q:"nobody"}}}`, InstanceLabel)), metav1.PatchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	orphan := newChaos("orphan", specFor("HTTPChaos", "web"), nil)
	orphan.Namespace = orphanNS
	remoteSpec := specFor("HTTPChaos", "web")
	remoteSpec.Common().RemoteCluster = "elsewhere"
	remote := newChaos("remote", remoteSpec, nil)
	mine := newChaos("mine", specFor("HTTPChaos", "web"), nil)
	for _, o := range []*api.Object{orphan, remote, mine} {
		e.create(o)
	}
	e.waitFor(mine, "AllInjected", injected)
	// Queued before "mine", so they would have been handled by now.
	for _, o := range []*api.Object{orphan, remote} {
		got := e.waitFor(o, "its current state", func(*api.Object, bool) bool { return true })
		if len(got.Finalizers) != 0 || got.Status.Experiment.DesiredPhase != "" {
			t.Errorf("%s was handled: %s", ref(o), summary(got))
		}
	}
}
