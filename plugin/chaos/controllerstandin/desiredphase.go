package controllerstandin

import (
	"context"
	"time"

	"github.com/cloudify-chaos/chaosops/plugin/chaos/api"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// desiredPhase decides the phase obj should be driven to at now, in Chaos
// Mesh's order: a deleted object stops; a one-shot object runs; an object
// whose duration (counted from its creation) is over stops; a paused
// object stops; the rest run. untilStop is how long the duration still
// runs (0 when there is none or it is over); events are the Kubernetes
// Events of a change.
func desiredPhase(obj *api.Object, now time.Time) (phase api.DesiredPhase, untilStop time.Duration, events []event) {
	current := obj.Status.Experiment.DesiredPhase
	change := func(p api.DesiredPhase, ev event) (api.DesiredPhase, time.Duration, []event) {
		if current != p {
			events = append(events, ev)
		}
		return p, untilStop, events
	}
	if obj.DeletionTimestamp != nil {
		return change(api.DesiredStop, event{reason: "Deleted", message: "Experiment has been deleted"})
	}
	if obj.Spec.OneShot() {
		return api.DesiredRun, 0, nil
	}
	if d := obj.Spec.Common().Duration; d != nil {
		// An unparsable duration runs forever, as in Chaos Mesh (which
		// only logs the parse error).
		if dur, err := time.ParseDuration(*d); err == nil {
			stop := obj.CreationTimestamp.Add(dur)
			if stop.Before(now) {
				return change(api.DesiredStop, event{reason: "TimeUp", message: "Time up according to the duration"})
			}
			untilStop = stop.Sub(now)
		}
	}
	if paused(obj) {
		return change(api.DesiredStop, event{reason: "Paused", message: "Experiment has been paused"})
	}
	return change(api.DesiredRun, event{reason: "Started", message: "Experiment has started"})
}

func paused(obj *api.Object) bool { return obj.Annotations[api.PauseAnnotation] == "true" }

// stepDesiredPhase is the desiredphase step: it writes the desired phase
// when it changes and asks to come back when the duration ends.
func (c *controller) stepDesiredPhase(ctx context.Context, k key, snap *snapshot) (result, error) {
	obj := snap.obj
	phase, untilStop, events := desiredPhase(obj, c.now())
	if obj.Status.Experiment.DesiredPhase == phase {
		return result{after: untilStop}, nil
	}
	c.emit(obj, events...)
	err := c.update(ctx, k, snap, func(u *unstructured.Unstructured, fresh *api.Object) (bool, error) {
		if fresh.Status.Experiment.DesiredPhase == phase {
			return false, nil
		}
		return true, unstructured.SetNestedField(u.Object, string(phase), "status", "experiment", "desiredPhase")
	})
	if err != nil {
		c.emit(obj, failed("update desiredphase", err))
		return result{}, nil
	}
	c.log.Info("desired phase", "ref", k.ref(), "phase", phase)
	c.emit(obj, updated("desiredPhase"))
	return result{after: untilStop}, nil
}
