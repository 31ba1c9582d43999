package controllerstandin

import (
	"context"
	"strings"
	"time"

	"github.com/cloudify-chaos/chaosops/plugin/chaos/api"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// op is what the records step does to one record.
type op int

const (
	opNothing op = iota
	opApply
	opRecover
)

// operation follows Chaos Mesh's cycle Not Injected → Not Injected/* →
// Injected → Injected/* → Not Injected: towards Run a record not yet
// Injected is applied (or, in an Injected/* phase, recovered first);
// towards Stop a record not yet Not Injected is recovered (or, in a Not
// Injected/* phase, applied first).
func operation(desired api.DesiredPhase, phase api.Phase) op {
	notInjectedSide := strings.HasPrefix(string(phase), string(api.PhaseNotInjected))
	switch {
	case desired == api.DesiredRun && phase != api.PhaseInjected,
		desired == api.DesiredStop && phase != api.PhaseNotInjected:
		if notInjectedSide {
			return opApply
		}
		return opRecover
	}
	return opNothing
}

// appendEvent adds ev to rec, dropping the oldest events beyond max.
func appendEvent(rec *api.Record, ev api.RecordEvent, max int) {
	if len(rec.Events) >= max {
		rec.Events = rec.Events[len(rec.Events)-max+1:]
	}
	rec.Events = append(rec.Events, ev)
}

// stepRecords is the records step: it selects the targets once (records
// are nil until then), then applies or recovers each record towards the
// desired phase and writes the records when anything changed. A failed
// attempt adds a Failed event and asks for a rate-limited retry.
func (c *controller) stepRecords(ctx context.Context, k key, snap *snapshot) (result, error) {
	obj := snap.obj
	kn, err := knobsFor(c.opts, obj.Annotations)
	if err != nil {
		c.emit(obj, failed("read stand-in annotations", err))
		return result{}, nil
	}
	desired := obj.Status.Experiment.DesiredPhase
	records := obj.Status.Experiment.Records
	changed := false
	if records == nil {
		for _, t := range obj.Spec.Targets() {
			ids, err := c.selectTargets(ctx, obj, t)
			if err != nil {
				c.log.Info("select targets", "ref", k.ref(), "err", err)
				c.emit(obj, failed("select targets", err))
				return result{}, nil
			}
			if len(ids) == 0 {
				c.log.Info("select targets", "ref", k.ref(), "err", "no target has been selected")
				c.emit(obj, failedMsg("select targets", "no target has been selected"))
				return result{}, nil
			}
			for _, id := range ids {
				records = append(records, api.Record{Id: id, SelectorKey: t.Key, Phase: api.PhaseNotInjected})
			}
			changed = true
		}
	}

	var res result
	for i := range records {
		rec := &records[i]
		before := rec.Phase
		switch operation(desired, rec.Phase) {
		case opApply:
			phase, wait, err := c.apply(ctx, obj, kn, rec)
			rec.Phase = phase
			changed = changed || phase != before
			if err != nil {
				appendEvent(rec, c.recordEvent(api.EventFailed, api.OperationApply, err.Error()), c.opts.MaxEvents)
				c.emit(obj, failed("apply chaos", err))
				res.requeue, changed = true, true
				continue
			}
			if wait > 0 {
				res.after = minAfter(res.after, wait)
			}
			if phase == api.PhaseInjected {
				rec.InjectedCount++
				appendEvent(rec, c.recordEvent(api.EventSucceeded, api.OperationApply, ""), c.opts.MaxEvents)
				c.emit(obj, event{reason: "Applied", message: "Successfully apply chaos for " + rec.Id})
			}
		case opRecover:
			phase, err := c.recover(ctx, obj, kn, rec)
			rec.Phase = phase
			changed = changed || phase != before
			if err != nil {
				appendEvent(rec, c.recordEvent(api.EventFailed, api.OperationRecover, err.Error()), c.opts.MaxEvents)
				c.emit(obj, failed("recover chaos", err))
				res.requeue, changed = true, true
				continue
			}
			if phase == api.PhaseNotInjected {
				rec.RecoveredCount++
				appendEvent(rec, c.recordEvent(api.EventSucceeded, api.OperationRecover, ""), c.opts.MaxEvents)
				c.emit(obj, event{reason: "Recovered", message: "Successfully recover chaos for " + rec.Id})
			}
		}
	}

	if changed {
		err := c.update(ctx, k, snap, func(u *unstructured.Unstructured, _ *api.Object) (bool, error) {
			return true, setStatus(u, records, "experiment", "containerRecords")
		})
		if err != nil {
			c.emit(obj, failed("update records", err))
			return result{requeue: true}, nil
		}
		c.log.Info("records", "ref", k.ref(), "desiredPhase", desired, "records", recordString(records))
		c.emit(obj, updated("records"))
	}
	return res, nil
}

func (c *controller) recordEvent(t api.RecordEventType, o api.RecordOperation, msg string) api.RecordEvent {
	return api.RecordEvent{Type: t, Operation: o, Message: msg, Timestamp: metav1.NewTime(c.now())}
}

func minAfter(a, b time.Duration) time.Duration {
	if a == 0 || b < a {
		return b
	}
	return a
}

func recordString(records []api.Record) string {
	parts := make([]string, len(records))
	for i, r := range records {
		parts[i] = r.Id + "=" + string(r.Phase)
	}
	return strings.Join(parts, " ")
}
