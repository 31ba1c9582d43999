package chaos

import (
	"time"

	"github.com/cloudify-chaos/chaosops/plugin/chaos/api"
)

// Verdict is the outcome of a run.
type Verdict string

// The verdicts, from the table.
const (
	VerdictPass                 Verdict = "pass"
	VerdictPrecheckFailed       Verdict = "precheck_failed"
	VerdictInjectionFailed      Verdict = "injection_failed"
	VerdictNoEffect             Verdict = "no_effect"
	VerdictSLOBreach            Verdict = "slo_breach"
	VerdictRecoveredButDegraded Verdict = "recovered_but_degraded"
	VerdictCancelled            Verdict = "cancelled"
	VerdictError                Verdict = "error"
)

// Verdicts lists every verdict in table order.
var Verdicts = []Verdict{VerdictPass, VerdictPrecheckFailed, VerdictInjectionFailed, VerdictNoEffect,
	VerdictSLOBreach, VerdictRecoveredButDegraded, VerdictCancelled, VerdictError}

// Step names an entry of the timeline.
type Step string

// The steps of a run, in the order they normally happen.
const (
	StepPreflight   Step = "preflight"
	StepCreated     Step = "created"
	StepSelected    Step = "selected"
	StepInjected    Step = "injected"
	StepPaused      Step = "paused"
	StepResumed     Step = "resumed"
	StepHoldEnded   Step = "hold_ended"
	StepAborted     Step = "aborted"
	StepRecovered   Step = "recovered"
	StepDeleted     Step = "deleted"
	StepCancelled   Step = "cancelled"
	StepFailed      Step = "failed"
	StepStuck       Step = "stuck"
	StepForced      Step = "forced_cleanup"
	StepCondition   Step = "condition"
	StepProbe       Step = "probe"
	StepDryRunValid Step = "validated"
)

// Event is one timeline entry.
type Event struct {
	At     time.Time `json:"at"`
	Step   Step      `json:"step"`
	Detail string    `json:"detail"`
}

// Result is what a run did. Run returns it with its error too.
type Result struct {
	// Ref is Kind/namespace/name of the chaos object.
	Ref       string `json:"ref"`
	Kind      string `json:"kind"`
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	RunID     string `json:"run_id"`

	Verdict Verdict `json:"verdict"`
	// Reason says why the verdict is not pass, in one line.
	Reason string `json:"reason,omitempty"`

	Started time.Time `json:"started"`
	Ended   time.Time `json:"ended"`
	// Created, Injected, Recovered and Deleted are when those steps were
	// seen; zero when they did not happen.
	Created   time.Time `json:"created,omitzero"`
	Injected  time.Time `json:"injected,omitzero"`
	Recovered time.Time `json:"recovered,omitzero"`
	Deleted   time.Time `json:"deleted,omitzero"`

	// Targets are the records of the last status seen.
	Targets []api.Record `json:"targets,omitempty"`
	// RecoveryUnverified is set when the finalizer was forced off
	// (force_cleanup): the faults may still be in place.
	RecoveryUnverified bool `json:"recovery_unverified,omitempty"`
	// Cleanup says how the object went away (or that it did not), what
	// chaosops removed by hand and what a person must check; nil when
	// nothing was created.
	Cleanup *Cleanup `json:"cleanup,omitempty"`
	// Spec is the spec that was created, with its secret-looking values
	// masked (api.Redacted): a Result is kept and printed.
	Spec api.Spec `json:"spec,omitempty"`

	Timeline []Event `json:"timeline"`
}

// InjectionWindow returns when the fault was in place: from all targets
// injected to recovered (or the end of the run).
func (r *Result) InjectionWindow() (from, to time.Time) {
	from = r.Injected
	to = r.Recovered
	if to.IsZero() {
		to = r.Deleted
	}
	if to.IsZero() {
		to = r.Ended
	}
	return from, to
}

// String returns the verdict's name.
func (v Verdict) String() string { return string(v) }
