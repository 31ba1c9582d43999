package chaos_test

import (
	"context"
	"errors"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"

	"github.com/cloudify-chaos/chaosops/plugin/chaos"
)

// TestCancelDuringCreateDeletesWhatTheServerCreated: a run cancelled while
// its create request is in flight may find the API server created the
// object anyway (the request reached it, the answer did not come back). The
// run must delete it, as after any cancel, and not report "nothing created".
func TestCancelDuringCreateDeletesWhatTheServerCreated(t *testing.T) {
	f := newFixture(t)
	ctx, cancel := context.WithCancelCause(t.Context())
	defer cancel(nil)
	r := *f.r
	r.Dynamic = cutOffCreate{Interface: f.dyn, cancel: cancel}
	res, err := r.Run(ctx, f.opts(f.httpAbort(t)))
	if res == nil || res.Verdict != chaos.VerdictCancelled || err == nil {
		t.Fatalf("verdict %v, err %v, want cancelled\n%s", res, err, f.logs)
	}
	if !hasStep(res, chaos.StepDeleted) && (res.Cleanup == nil || res.Cleanup.Outcome != chaos.CleanupComplete) {
		t.Errorf("timeline %v, cleanup %+v: the object the server created was not cleaned up", steps(res), res.Cleanup)
	}
	f.assertNoChaosLeft(t)
}

// cutOffCreate is the dynamic client of a run whose create request reaches
// the API server and creates the object, while the caller is cancelled
// before the answer arrives.
type cutOffCreate struct {
	dynamic.Interface
	cancel context.CancelCauseFunc
}

func (c cutOffCreate) Resource(gvr schema.GroupVersionResource) dynamic.NamespaceableResourceInterface {
	return cutOffResource{NamespaceableResourceInterface: c.Interface.Resource(gvr), cancel: c.cancel}
}

type cutOffResource struct {
	dynamic.NamespaceableResourceInterface
	cancel context.CancelCauseFunc
}

func (c cutOffResource) Namespace(ns string) dynamic.ResourceInterface {
	return cutOffNamespaced{ResourceInterface: c.NamespaceableResourceInterface.Namespace(ns), cancel: c.cancel}
}

type cutOffNamespaced struct {
	dynamic.ResourceInterface
	cancel context.CancelCauseFunc
}

var errCutOff = errors.New("SIGTERM while the create request was in flight")

func (c cutOffNamespaced) Create(ctx context.Context, obj *unstructured.Unstructured, opts metav1.CreateOptions, sub ...string) (*unstructured.Unstructured, error) {
	if len(opts.DryRun) > 0 {
		return c.ResourceInterface.Create(ctx, obj, opts, sub...)
	}
	if _, err := c.ResourceInterface.Create(context.WithoutCancel(ctx), obj, opts, sub...); err != nil {
		return nil, err
	}
	c.cancel(errCutOff)
	return nil, context.Cause(ctx)
}
