package chaos

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/fields"
)

// selectionPoll is how often the Events of an object that selected
// nothing are read. The controller writes nothing on the object when
// selection fails, so there is no change to watch for.
const selectionPoll = time.Second

// eventsState says whether the object's Events could be read.
type eventsState struct{ unreadable error }

// note adds to a timeout message why selection failures may have gone
// unseen.
func (s eventsState) note() string {
	if s.unreadable == nil {
		return ""
	}
	return fmt.Sprintf(" (the chaos object's Events could not be read, so a failed selection was not seen: %v)", s.unreadable)
}

// watchSelection reads the Warning Events of the run's object until ctx
// ends or something is selected; a permanent one (see failurePatterns,
// InKubeEvent) ends the injection wait through fail.
func (x *run) watchSelection(ctx context.Context, selected *atomic.Bool, fail context.CancelCauseFunc) eventsState {
	if x.uid == "" {
		return eventsState{}
	}
	sel := fields.Set{"involvedObject.uid": string(x.uid), "type": "Warning"}.AsSelector().String()
	events := x.r.Dynamic.Resource(gvrEvents).Namespace(x.obj.Namespace)
	t := time.NewTicker(selectionPoll)
	defer t.Stop()
	for {
		if !selected.Load() {
			list, err := events.List(ctx, metav1.ListOptions{FieldSelector: sel})
			switch {
			case ctx.Err() != nil:
				return eventsState{}
			case apierrors.IsForbidden(err) || apierrors.IsNotFound(err):
				return eventsState{unreadable: err}
			case err == nil:
				if msg, ok := permanentEventFailure(list.Items); ok {
					fail(&permanentError{msg: msg})
					return eventsState{}
				}
			}
		}
		select {
		case <-ctx.Done():
			return eventsState{}
		case <-t.C:
		}
	}
}

// permanentEventFailure finds a permanent failure among Events.
func permanentEventFailure(items []unstructured.Unstructured) (string, bool) {
	for _, e := range items {
		msg, _, _ := unstructured.NestedString(e.Object, "message")
		if class, why := ClassifyFailure(InKubeEvent, msg); class == Permanent {
			return fmt.Sprintf("Event %q: %s", strings.TrimSpace(msg), why), true
		}
	}
	return "", false
}
