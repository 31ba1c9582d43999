package controllerstandin

import (
	"fmt"
	"strconv"
	"time"

	"github.com/cloudify-chaos/chaosops/plugin/chaos/api"
)

// Annotations on a chaos object that change how the stand-in treats it, so
// that tests can create objects through the real code path and still
// choose an outcome. They are not Chaos Mesh features; the real controller
// ignores them.
const (
	// FailInjectionAnnotation makes every injection of the object fail.
	// "true" uses DefaultFailureMessage; any other value except "false"
	// is the failure message itself.
	FailInjectionAnnotation = "standin.chaosops.dev/fail-injection"
	// FailRecoveryAnnotation makes every recovery of the object fail, with
	// the same values as FailInjectionAnnotation. While recovery fails,
	// a deleted object keeps its finalizer.
	FailRecoveryAnnotation = "standin.chaosops.dev/fail-recovery"
	// StickyFinalizerAnnotation, "true", keeps the finalizer on the deleted
	// object after recovery, until the forced cleanFinalizer annotation.
	StickyFinalizerAnnotation = "standin.chaosops.dev/sticky-finalizer"
	// InjectionDelayAnnotation, a Go duration ("2s"), holds the records in
	// phase "Not Injected/Wait" that long before they become Injected.
	InjectionDelayAnnotation = "standin.chaosops.dev/injection-delay"

	// InstanceLabel on a Namespace assigns its chaos objects to the
	// stand-in whose Options.Instance has the label's value.
	InstanceLabel = "standin.chaosops.dev/instance"

	// DefaultFailureMessage is the message of knob-made failures.
	DefaultFailureMessage = "stand-in: failure requested by annotation or option"
)

// PhaseWaitInjected is the intermediate phase of a slow injection, as Chaos
// Mesh's HTTPChaos, IOChaos and NetworkChaos use while chaos-daemon syncs.
const PhaseWaitInjected api.Phase = "Not Injected/Wait"

// knobs are the effective test behaviours for one object.
type knobs struct {
	failInjection  string // failure message; "" succeeds
	failRecovery   string
	stickyFinal    bool
	injectionDelay time.Duration
}

// knobsFor combines opts with the object's annotations; an annotation wins
// over the option. A malformed annotation is an error naming it.
func knobsFor(opts Options, annotations map[string]string) (knobs, error) {
	k := knobs{stickyFinal: opts.StickyFinalizer, injectionDelay: opts.InjectionDelay}
	if opts.FailInjection {
		k.failInjection = DefaultFailureMessage
	}
	if opts.FailRecovery {
		k.failRecovery = DefaultFailureMessage
	}
	if v, ok := annotations[FailInjectionAnnotation]; ok {
		k.failInjection = failureMessage(v)
	}
	if v, ok := annotations[FailRecoveryAnnotation]; ok {
		k.failRecovery = failureMessage(v)
	}
	if v, ok := annotations[StickyFinalizerAnnotation]; ok {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return k, fmt.Errorf("annotation %s: %q is not true or false", StickyFinalizerAnnotation, v)
		}
		k.stickyFinal = b
	}
	if v, ok := annotations[InjectionDelayAnnotation]; ok {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			return k, fmt.Errorf("annotation %s: %q is not a duration; use e.g. \"2s\"", InjectionDelayAnnotation, v)
		}
		k.injectionDelay = d
	}
	return k, nil
}

func failureMessage(v string) string {
	switch v {
	case "", "false":
		return ""
	case "true":
		return DefaultFailureMessage
	}
	return v
}
