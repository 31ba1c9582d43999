package kube

import (
	"context"
	"fmt"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// crdGate opens when a CRD of the input is applied and, if needed,
// Established.
type crdGate struct {
	done chan struct{}
	err  error
	// needed is set when custom resources of the input wait for the gate;
	// such CRDs are applied first.
	needed bool
}

// unchangedByMetadata tells, from its metadata alone, that a CRD is up to
// date, and returns that metadata; nil means "read it in full". A CRD is
// large (often hundreds of KB) while its metadata is small. It is up to
// date when it is still the object of the previous inventory at the same
// generation (the API server bumps the generation on every spec change),
// carries our hash, was applied by our field manager, and its metadata
// holds ours. CRDs that custom resources of the input wait for are read in
// full, since their status is needed.
func (r *applyRun) unchangedByMetadata(ctx context.Context, it *item) *metav1.PartialObjectMetadata {
	if it.gvk.GroupKind() != crdGK {
		return nil
	}
	if g := r.gates[it.obj.GetName()]; g != nil && g.needed {
		return nil
	}
	prev, ok := r.prev[it.key()]
	if !ok || prev.UID == "" || prev.Generation == 0 {
		return nil
	}
	pm, err := r.m.client.metadata.Resource(it.gvr).Get(ctx, it.obj.GetName(), metav1.GetOptions{})
	if err != nil || string(pm.UID) != prev.UID || pm.Generation != prev.Generation ||
		pm.Annotations[HashAnnotation] != it.hash {
		return nil
	}
	applied := false
	for _, mf := range pm.ManagedFields {
		if mf.Manager == r.opts.FieldManager && mf.Operation == metav1.ManagedFieldsOperationApply && mf.Subresource == "" {
			applied = true
		}
	}
	if !applied {
		return nil
	}
	liveMeta, err := runtime.DefaultUnstructuredConverter.ToUnstructured(&pm.ObjectMeta)
	if err != nil || !contains(liveMeta, it.obj.Object["metadata"]) {
		return nil
	}
	return pm
}

// prepareGates makes a gate for every CRD of the input. A gate opens when
// its CRD is applied and, if custom resources of the input need it,
// Established.
func (r *applyRun) prepareGates(crdItems []*item) {
	needed := map[string]bool{}
	for _, it := range r.items {
		if it.crd != "" {
			needed[it.crd] = true
		}
	}
	for _, it := range crdItems {
		r.gates[it.obj.GetName()] = &crdGate{done: make(chan struct{}), needed: needed[it.obj.GetName()]}
	}
}

// applyCRDs applies the CRDs and opens their gates. CRDs whose custom
// resources are in the input go first, on their own: the API server
// establishes CRDs one after another, so the others would delay them. Each
// of those is then waited for, outside the apply slots, until Established.
// The other CRDs are only applied; Wait waits for them.
func (r *applyRun) applyCRDs(ctx context.Context, crdItems []*item) error {
	start := time.Now()
	var needed, rest []*item
	for _, it := range crdItems {
		if r.gates[it.obj.GetName()].needed {
			needed = append(needed, it)
		} else {
			rest = append(rest, it)
		}
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var waitErrs []error
	apply := func(ctx context.Context, it *item) error {
		g := r.gates[it.obj.GetName()]
		_, live, err := r.applyAndRecord(ctx, it)
		if err != nil {
			g.err = err
			close(g.done)
			return err
		}
		if ready, _, _ := readiness(live); ready || r.opts.DryRun || !g.needed {
			close(g.done)
			return nil
		}
		t := waitTarget{ref: it.ref, ri: r.m.itemResource(it), name: it.obj.GetName(), last: live}
		wg.Go(func() {
			defer close(g.done)
			wstart := time.Now()
			if _, err := r.m.waitAll(ctx, []waitTarget{t}, readyCheck, r.opts.Timeout, "wait"); err != nil {
				g.err = err
				mu.Lock()
				waitErrs = append(waitErrs, err)
				mu.Unlock()
				return
			}
			r.m.log.Debug(fmt.Sprintf("%s established after %s", it.ref, time.Since(wstart).Round(time.Millisecond)))
		})
		return nil
	}
	err := forEach(ctx, needed, r.opts.Concurrency, apply)
	if err == nil {
		err = forEach(ctx, rest, r.opts.Concurrency, apply)
	}
	wg.Wait()
	// Gates of CRDs never started (failure, cancel) must not block anyone.
	for _, it := range crdItems {
		g := r.gates[it.obj.GetName()]
		select {
		case <-g.done:
		default:
			g.err = fmt.Errorf("not applied")
			if ctx.Err() != nil {
				g.err = ctx.Err()
			}
			close(g.done)
		}
	}
	if err == nil {
		err = joinSorted(waitErrs)
	}
	if err == nil && len(crdItems) > 0 {
		r.m.log.Debug(fmt.Sprintf("custom resource definitions: %d applied in %s", len(crdItems), time.Since(start).Round(time.Millisecond)))
	}
	return err
}

// awaitCRD blocks a custom resource until the CRD of the input that
// defines its kind is Established.
func (r *applyRun) awaitCRD(ctx context.Context, it *item) error {
	g := r.gates[it.crd]
	if g == nil {
		return nil
	}
	select {
	case <-g.done:
	case <-ctx.Done():
		return ctx.Err()
	}
	if g.err != nil {
		return it.fail("apply", fmt.Errorf("CustomResourceDefinition/%s is not established: %w", it.crd, g.err))
	}
	return nil
}
