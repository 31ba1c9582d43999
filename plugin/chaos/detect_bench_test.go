package chaos

import (
	"context"
	"fmt"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/dynamic"

	"github.com/cloudify-chaos/chaosops/plugin/chaos/api"
	"github.com/cloudify-chaos/chaosops/plugin/internal/testenv"
)

// benchAnnotation is the field the benchmark flips.
const benchAnnotation = "chaosops.dev/bench-flip"

// BenchmarkConditionDetection measures the time from a change of a chaos
// object committed by the API server (the update returned) to our watch
// (watchObject, the one that sees condition flips) seeing it (target
// ≤ 200 ms; a Cloudify-style retry loop polls every 15–30 s). The real
// controller reconciles the object too (its selector matches no pod, so
// it selects nothing), and its condition step rewrites status.conditions
// from the records: the benchmark therefore flips an annotation, which the
// controller leaves alone, and the watch's path is the same.
func BenchmarkConditionDetection(b *testing.B) {
	cfg := testenv.Config(b)
	ns := testenv.Namespace(b, cfg)
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		b.Fatal(err)
	}
	k, _ := api.KindNamed("HTTPChaos")
	abort := true
	spec := &api.HTTPChaosSpec{Target: "Request", Port: 8080, Abort: &abort}
	spec.Mode = api.ModeOne
	spec.Selector.LabelSelectors = map[string]string{"app": "nothing-here"}
	obj := api.NewObject(ns, "latency", spec)
	u, err := api.ToUnstructured(obj)
	if err != nil {
		b.Fatal(err)
	}
	res := dyn.Resource(k.GroupVersionResource()).Namespace(ns)
	if _, err := res.Create(b.Context(), u, metav1.CreateOptions{}); err != nil {
		b.Fatal(err)
	}
	seen := make(chan string, 64)
	ctx, cancel := context.WithCancel(b.Context())
	defer cancel()
	go func() {
		_ = watchObject(ctx, res, "latency", func(o *api.Object) (bool, error) {
			if o != nil {
				seen <- o.GetAnnotations()[benchAnnotation]
			}
			return false, nil
		})
	}()
	<-seen // the initial list
	var total, write time.Duration
	i := 0
	for b.Loop() {
		i++
		want := fmt.Sprint(i)
		var start, committed time.Time
		for {
			cur, err := res.Get(ctx, "latency", metav1.GetOptions{})
			if err != nil {
				b.Fatal(err)
			}
			ann := cur.GetAnnotations()
			if ann == nil {
				ann = map[string]string{}
			}
			ann[benchAnnotation] = want
			cur.SetAnnotations(ann)
			start = time.Now()
			_, err = res.Update(ctx, cur, metav1.UpdateOptions{})
			committed = time.Now()
			if err == nil {
				break
			}
			if !apierrors.IsConflict(err) { // the controller wrote in between
				b.Fatal(err)
			}
		}
		for v := range seen {
			if v == want {
				break
			}
		}
		// The change is committed when the update returns; the watch may
		// deliver it even earlier, which counts as zero.
		total += max(0, time.Since(committed))
		write += committed.Sub(start)
	}
	b.ReportMetric(float64(total.Microseconds())/1000/float64(b.N), "ms-commit-to-seen")
	b.ReportMetric(float64(write.Microseconds())/1000/float64(b.N), "ms-write")
	// Let the controller release its finalizer, so that the namespace goes.
	_ = res.Delete(context.WithoutCancel(b.Context()), "latency", metav1.DeleteOptions{})
}
