package chaos_test

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/cloudify-chaos/chaosops/plugin/chaos"
	"github.com/cloudify-chaos/chaosops/plugin/chaos/api"
)

// TestTrialRetryAdoptsAnObjectWhoseFaultEnded: an attempt killed during
// recovery leaves an object whose fault was injected and has ended
// (AllInjected false again, AllRecovered true). The retry adopts it and
// must not wait for an injection that will never come again.
func TestTrialRetryAdoptsAnObjectWhoseFaultEnded(t *testing.T) {
	f := newFixture(t)
	obj := f.httpAbort(t)
	o := f.opts(obj)
	o.Owner.RunID = "adopt-ended"
	// What the killed attempt left: the object as Run creates it.
	left := f.httpAbort(t)
	left.Name = chaos.ObjectName(left, o.Owner.RunID)
	left.Labels = map[string]string{chaos.LabelManagedBy: chaos.ManagedBy, chaos.LabelDeployment: o.Owner.Deployment, chaos.LabelRun: o.Owner.RunID}
	u, err := api.ToUnstructured(left)
	if err != nil {
		t.Fatal(err)
	}
	res := f.dyn.Resource(api.GroupVersion.WithResource("httpchaos")).Namespace(f.ns)
	if _, err := res.Create(t.Context(), u, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(100 * time.Millisecond) {
		cur, err := res.Get(t.Context(), left.Name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		got, err := api.FromUnstructured(cur)
		if err != nil {
			t.Fatal(err)
		}
		injected, _ := api.Condition(got, api.ConditionAllInjected)
		recovered, _ := api.Condition(got, api.ConditionAllRecovered)
		if len(got.Status.Experiment.Records) > 0 && got.Status.Experiment.Records[0].InjectedCount > 0 && injected == "False" && recovered == "True" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the object's fault did not end within 1m: %+v", got.Status)
		}
	}
	// A retry that waited for a new injection would end injection_failed
	// at injection_timeout.
	r, err := f.r.Run(t.Context(), o)
	if err != nil || r.Verdict != chaos.VerdictPass {
		t.Fatalf("verdict %s, err %v\n%s", r.Verdict, err, f.logs)
	}
	if r.Name != left.Name || !hasStep(r, chaos.StepDeleted) {
		t.Errorf("the retry ran %s with timeline %v, want it to adopt and delete %s", r.Name, steps(r), left.Name)
	}
	f.assertNoChaosLeft(t)
}
