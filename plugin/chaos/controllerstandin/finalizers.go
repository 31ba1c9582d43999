package controllerstandin

import (
	"context"
	"slices"

	"github.com/cloudify-chaos/chaosops/plugin/chaos/api"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// stepInitFinalizer adds the records finalizer to a live object that lacks it.
func (c *controller) stepInitFinalizer(ctx context.Context, k key, snap *snapshot) (result, error) {
	obj := snap.obj
	if obj.DeletionTimestamp != nil || slices.Contains(obj.Finalizers, api.RecordsFinalizer) {
		return result{}, nil
	}
	c.emit(obj, event{reason: "FinalizerInited", message: "Finalizer has been inited"})
	err := c.update(ctx, k, snap, func(u *unstructured.Unstructured, fresh *api.Object) (bool, error) {
		if fresh.DeletionTimestamp != nil || slices.Contains(fresh.Finalizers, api.RecordsFinalizer) {
			return false, nil
		}
		u.SetFinalizers(append(u.GetFinalizers(), api.RecordsFinalizer))
		return true, nil
	})
	if err != nil {
		c.emit(obj, failed("update finalizer", err))
		return result{}, nil
	}
	c.log.Info("finalizer added", "ref", k.ref())
	c.emit(obj, updated("finalizer"))
	return result{}, nil
}

// releaseFinalizers reports whether the clean step empties the finalizers of
// a deleted object: when it carries the forced cleanFinalizer annotation,
// or when every record is Not Injected (none selected counts) and the
// stand-in is not told to keep the finalizer.
func releaseFinalizers(obj *api.Object, sticky bool) bool {
	if obj.DeletionTimestamp == nil {
		return false
	}
	if obj.Annotations[api.CleanFinalizerAnnotation] == api.CleanFinalizerForced {
		return true
	}
	for _, r := range obj.Status.Experiment.Records {
		if r.Phase != api.PhaseNotInjected {
			return false
		}
	}
	return len(obj.Finalizers) != 0 && !sticky
}

// stepCleanFinalizer removes every finalizer of a deleted object once it is
// recovered (or forced), which lets the API server delete it. Like Chaos
// Mesh it clears the whole list, not only its own finalizer.
func (c *controller) stepCleanFinalizer(ctx context.Context, k key, snap *snapshot) (result, error) {
	obj := snap.obj
	kn, err := knobsFor(c.opts, obj.Annotations)
	if err != nil {
		c.emit(obj, failed("read stand-in annotations", err))
		return result{}, nil
	}
	if !releaseFinalizers(obj, kn.stickyFinal) {
		return result{}, nil
	}
	// Chaos Mesh's FinalizerRemoved event reuses the FinalizerInited reason.
	c.emit(obj, event{reason: "FinalizerInited", message: "Finalizer has been removed"})
	err = c.update(ctx, k, snap, func(u *unstructured.Unstructured, _ *api.Object) (bool, error) {
		u.SetFinalizers([]string{})
		return true, nil
	})
	if err != nil {
		c.emit(obj, failed("update finalizer", err))
		return result{}, nil
	}
	c.log.Info("finalizers removed", "ref", k.ref())
	c.emit(obj, updated("finalizer"))
	return result{}, nil
}
