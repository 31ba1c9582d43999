package controllerstandin

import (
	"context"
	"encoding/json"
	"time"

	"github.com/cloudify-chaos/chaosops/plugin/chaos/api"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/util/retry"
)

// key identifies one chaos object in the work queue.
type key struct {
	kind      string // api.Kind.Name
	namespace string
	name      string
}

// ref is the object reference that starts log lines: "HTTPChaos/ns/name".
func (k key) ref() string { return k.kind + "/" + k.namespace + "/" + k.name }

// resource is the dynamic client for k's kind and namespace.
func (c *controller) resource(k key) dynamic.ResourceInterface {
	return c.dyn.Resource(c.kinds[k.kind].GroupVersionResource()).Namespace(k.namespace)
}

// result is a step's or a pass's request to come back: requeue soon
// (rate-limited, after a failure) or after a delay.
type result struct {
	requeue bool
	after   time.Duration
}

// step is one controller of Chaos Mesh's pipeline.
type step func(ctx context.Context, k key, snap *snapshot) (result, error)

// snapshot is the latest known version of the object during a pass: read
// at the start, then replaced by each write's response, so that every step
// sees the previous step's change (Chaos Mesh's steps re-read it instead).
type snapshot struct {
	u    *unstructured.Unstructured
	obj  *api.Object
	gone bool // deleted during the pass
}

func (s *snapshot) set(u *unstructured.Unstructured) error {
	obj, err := api.FromUnstructured(u)
	if err != nil {
		return err
	}
	s.u, s.obj = u, obj
	return nil
}

// steps are Chaos Mesh's pipeline steps in its order.
func (c *controller) steps() []step {
	return []step{c.stepInitFinalizer, c.stepDesiredPhase, c.stepConditions, c.stepRecords, c.stepCleanFinalizer}
}

// reconcile runs one pass of the pipeline on k. Like Chaos Mesh, every
// step writes its own change; a step asking for a requeue ends the pass;
// the earliest delay asked for is kept.
func (c *controller) reconcile(ctx context.Context, k key) (result, error) {
	u, err := c.resource(k).Get(ctx, k.name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return result{}, nil
	}
	if err != nil {
		return result{}, err
	}
	snap := &snapshot{}
	if err := snap.set(u); err != nil {
		return result{}, err
	}
	if mine, err := c.handles(ctx, snap.obj); err != nil || !mine {
		return result{}, err
	}
	var deadline time.Time
	for _, s := range c.steps() {
		r, err := s(ctx, k, snap)
		if err != nil {
			return result{}, err
		}
		if snap.gone {
			return result{}, nil
		}
		if r.requeue || !deadline.IsZero() && deadline.Before(c.now()) {
			return result{requeue: true}, nil
		}
		if r.after > 0 {
			if end := c.now().Add(r.after); deadline.IsZero() || end.Before(deadline) {
				deadline = end
			}
		}
	}
	if deadline.IsZero() {
		return result{}, nil
	}
	if wait := deadline.Sub(c.now()); wait > 0 {
		return result{after: wait}, nil
	}
	return result{requeue: true}, nil
}

// handles reports whether obj is this stand-in's: not meant for a remote
// cluster (Chaos Mesh's RemoteChaosPredicate), and in a namespace of this
// instance.
func (c *controller) handles(ctx context.Context, obj *api.Object) (bool, error) {
	if obj.Spec.Common().RemoteCluster != "" {
		return false, nil
	}
	ns, err := c.kube.CoreV1().Namespaces().Get(ctx, obj.Namespace, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return ns.Labels[InstanceLabel] == c.opts.Instance, nil
}

// update lets mutate change the object (mutate returns false when there
// is nothing to write) and writes the whole object, retrying on conflicts
// with retry.DefaultBackoff and a fresh read, as Chaos Mesh does. The chaos
// CRDs have no status subresource, so status is written with the object.
// On success snap holds the written version.
func (c *controller) update(ctx context.Context, k key, snap *snapshot, mutate func(u *unstructured.Unstructured, fresh *api.Object) (bool, error)) error {
	res := c.resource(k)
	current, fresh := snap.u, snap.obj
	err := retry.RetryOnConflict(retry.DefaultBackoff, func() error {
		if current == nil {
			u, err := res.Get(ctx, k.name, metav1.GetOptions{})
			if err != nil {
				return err
			}
			if fresh, err = api.FromUnstructured(u); err != nil {
				return err
			}
			current = u
		}
		u := current.DeepCopy()
		current = nil // read again after a conflict
		write, err := mutate(u, fresh)
		if err != nil || !write {
			return err
		}
		written, err := res.Update(ctx, u, metav1.UpdateOptions{FieldManager: FieldManager})
		if err != nil {
			return err
		}
		return snap.set(written)
	})
	if apierrors.IsNotFound(err) {
		snap.gone = true // deleted meanwhile: nothing left to drive
		return nil
	}
	if err != nil {
		c.log.Warn("update", "ref", k.ref(), "err", err)
	}
	return err
}

// setStatus sets status.<fields> of u to value, converted to JSON types.
func setStatus(u *unstructured.Unstructured, value any, fields ...string) error {
	data, err := json.Marshal(value)
	if err != nil {
		return err
	}
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		return err
	}
	if v == nil {
		unstructured.RemoveNestedField(u.Object, append([]string{"status"}, fields...)...)
		return nil
	}
	return unstructured.SetNestedField(u.Object, v, append([]string{"status"}, fields...)...)
}
