package controllerstandin

import (
	"context"

	"github.com/cloudify-chaos/chaosops/plugin/chaos/api"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/tools/record"
)

// event is a Kubernetes Event as Chaos Mesh's recorder emits it.
type event struct {
	warning         bool
	reason, message string
}

func failed(activity string, err error) event { return failedMsg(activity, err.Error()) }

func failedMsg(activity, msg string) event {
	return event{warning: true, reason: "Failed", message: "Failed to " + activity + ": " + msg}
}

func updated(field string) event {
	return event{reason: "Updated", message: "Successfully update " + field + " of resource"}
}

// newRecorder starts sending Events to the API server until ctx ends.
func newRecorder(ctx context.Context, kube kubernetes.Interface) (record.EventRecorder, func()) {
	b := record.NewBroadcaster(record.WithContext(ctx))
	b.StartRecordingToSink(&typedcorev1.EventSinkImpl{Interface: kube.CoreV1().Events("")})
	return b.NewRecorder(scheme.Scheme, corev1.EventSource{Component: FieldManager}), b.Shutdown
}

// emit records events on obj, unless Events are turned off.
func (c *controller) emit(obj *api.Object, events ...event) {
	if c.recorder == nil {
		return
	}
	ref := &corev1.ObjectReference{
		APIVersion: obj.APIVersion, Kind: obj.Kind, Namespace: obj.Namespace, Name: obj.Name,
		UID: obj.UID, ResourceVersion: obj.ResourceVersion,
	}
	for _, e := range events {
		t := corev1.EventTypeNormal
		if e.warning {
			t = corev1.EventTypeWarning
		}
		c.recorder.Event(ref, t, e.reason, e.message)
	}
}
