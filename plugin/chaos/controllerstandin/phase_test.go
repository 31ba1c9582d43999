package controllerstandin

import (
	"testing"
	"time"

	"github.com/cloudify-chaos/chaosops/plugin/chaos/api"
	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

var created = time.Date(2026, 8, 1, 10, 0, 0, 0, time.UTC)

// testObject is an HTTPChaos created at `created`, edited by edit.
func testObject(edit func(o *api.Object)) *api.Object {
	o := api.NewObject("demo", "x", &api.HTTPChaosSpec{})
	o.CreationTimestamp = metav1.NewTime(created)
	if edit != nil {
		edit(o)
	}
	return o
}

func withDuration(d string) func(*api.Object) {
	return func(o *api.Object) { o.Spec.Common().Duration = ptr.To(d) }
}

func TestDesiredPhase(t *testing.T) {
	deleted := func(o *api.Object) { o.DeletionTimestamp = ptr.To(metav1.NewTime(created)) }
	pausedObj := func(o *api.Object) { o.Annotations = map[string]string{api.PauseAnnotation: "true"} }
	for _, tc := range []struct {
		name      string
		obj       *api.Object
		now       time.Time
		want      api.DesiredPhase
		untilStop time.Duration
		reason    string
	}{
		{"a new object starts", testObject(nil), created, api.DesiredRun, 0, "Started"},
		{"a running object within its duration runs and says when it ends", testObject(withDuration("30s")), created.Add(10 * time.Second), api.DesiredRun, 20 * time.Second, "Started"},
		{"the duration is counted from creation", testObject(withDuration("30s")), created.Add(31 * time.Second), api.DesiredStop, 0, "TimeUp"},
		{"a paused object stops", testObject(pausedObj), created, api.DesiredStop, 0, "Paused"},
		{"only pause=true pauses", testObject(func(o *api.Object) { o.Annotations = map[string]string{api.PauseAnnotation: "yes"} }), created, api.DesiredRun, 0, "Started"},
		{"a deleted object stops", testObject(deleted), created, api.DesiredStop, 0, "Deleted"},
		{"an unparsable duration runs forever", testObject(withDuration("soon")), created.Add(time.Hour), api.DesiredRun, 0, "Started"},
		{"a one-shot pod-kill ignores its duration and the pause", func() *api.Object {
			o := api.NewObject("demo", "kill", &api.PodChaosSpec{Action: api.PodKill})
			o.CreationTimestamp = metav1.NewTime(created)
			o.Spec.Common().Duration = ptr.To("1s")
			pausedObj(o)
			return o
		}(), created.Add(time.Hour), api.DesiredRun, 0, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, until, events := desiredPhase(tc.obj, tc.now)
			if got != tc.want || until != tc.untilStop {
				t.Errorf("desiredPhase = %s, %v; want %s, %v", got, until, tc.want, tc.untilStop)
			}
			reason := ""
			if len(events) > 0 {
				reason = events[0].reason
			}
			if reason != tc.reason {
				t.Errorf("event reason %q, want %q", reason, tc.reason)
			}
		})
	}

	t.Run("an unchanged phase emits no event", func(t *testing.T) {
		o := testObject(nil)
		o.Status.Experiment.DesiredPhase = api.DesiredRun
		if _, _, events := desiredPhase(o, created); len(events) != 0 {
			t.Errorf("events %v", events)
		}
	})
}

func TestConditionsFor(t *testing.T) {
	recs := func(phases ...api.Phase) func(o *api.Object) {
		return func(o *api.Object) {
			for _, p := range phases {
				o.Status.Experiment.Records = append(o.Status.Experiment.Records, api.Record{Id: "demo/p", Phase: p})
			}
		}
	}
	for _, tc := range []struct {
		name string
		obj  *api.Object
		want string
	}{
		{"without records nothing is selected", testObject(nil), "Selected=False AllInjected=False AllRecovered=False Paused=False"},
		{"fresh records are all recovered", testObject(recs(api.PhaseNotInjected, api.PhaseNotInjected)), "Selected=True AllInjected=False AllRecovered=True Paused=False"},
		{"injected records", testObject(recs(api.PhaseInjected, api.PhaseInjected)), "Selected=True AllInjected=True AllRecovered=False Paused=False"},
		{"a waiting record is neither", testObject(recs(api.PhaseInjected, PhaseWaitInjected)), "Selected=True AllInjected=False AllRecovered=False Paused=False"},
		{"the pause annotation", testObject(func(o *api.Object) { o.Annotations = map[string]string{api.PauseAnnotation: "true"} }), "Selected=False AllInjected=False AllRecovered=False Paused=True"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := conditionString(conditionsFor(tc.obj)); got != tc.want {
				t.Errorf("conditions %s, want %s", got, tc.want)
			}
		})
	}

	t.Run("order does not matter when comparing", func(t *testing.T) {
		a := conditionsFor(testObject(nil))
		b := []api.ChaosCondition{a[3], a[2], a[1], a[0]}
		if !sameConditions(a, b) || sameConditions(a, a[:3]) {
			t.Error("sameConditions is order-sensitive or ignores a missing condition")
		}
	})
}

func TestOperation(t *testing.T) {
	for _, tc := range []struct {
		desired api.DesiredPhase
		phase   api.Phase
		want    op
	}{
		{api.DesiredRun, api.PhaseNotInjected, opApply},
		{api.DesiredRun, PhaseWaitInjected, opApply},
		{api.DesiredRun, api.PhaseInjected, opNothing},
		{api.DesiredRun, "Injected/Wait", opRecover},
		{api.DesiredStop, api.PhaseInjected, opRecover},
		{api.DesiredStop, PhaseWaitInjected, opApply},
		{api.DesiredStop, api.PhaseNotInjected, opNothing},
		{"", api.PhaseNotInjected, opNothing},
	} {
		if got := operation(tc.desired, tc.phase); got != tc.want {
			t.Errorf("operation(%q, %q) = %v, want %v", tc.desired, tc.phase, got, tc.want)
		}
	}
}

func TestAppendEventKeepsTheLatest(t *testing.T) {
	var r api.Record
	for i := range 5 {
		appendEvent(&r, api.RecordEvent{Message: string(rune('a' + i))}, 3)
	}
	var got []string
	for _, e := range r.Events {
		got = append(got, e.Message)
	}
	if diff := cmp.Diff([]string{"c", "d", "e"}, got); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
}

func TestReleaseFinalizers(t *testing.T) {
	deleting := func(edit func(o *api.Object)) *api.Object {
		return testObject(func(o *api.Object) {
			o.DeletionTimestamp = ptr.To(metav1.NewTime(created))
			o.Finalizers = []string{api.RecordsFinalizer}
			if edit != nil {
				edit(o)
			}
		})
	}
	injected := func(o *api.Object) { o.Status.Experiment.Records = []api.Record{{Phase: api.PhaseInjected}} }
	forced := func(o *api.Object) {
		injected(o)
		o.Annotations = map[string]string{api.CleanFinalizerAnnotation: api.CleanFinalizerForced}
	}
	for _, tc := range []struct {
		name   string
		obj    *api.Object
		sticky bool
		want   bool
	}{
		{"a live object keeps its finalizer", testObject(func(o *api.Object) { o.Finalizers = []string{api.RecordsFinalizer} }), false, false},
		{"a deleted object without records is released", deleting(nil), false, true},
		{"a deleted object with an injected record is held", deleting(injected), false, false},
		{"the forced annotation releases an injected object", deleting(forced), false, true},
		{"a sticky finalizer holds a recovered object", deleting(nil), true, false},
		{"the forced annotation releases a sticky finalizer", deleting(forced), true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := releaseFinalizers(tc.obj, tc.sticky); got != tc.want {
				t.Errorf("releaseFinalizers = %v, want %v", got, tc.want)
			}
		})
	}
}
