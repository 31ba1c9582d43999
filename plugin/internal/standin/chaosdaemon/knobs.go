package chaosdaemon

import (
	"fmt"
	"time"
)

// Annotations that change how the stand-in answers, so that tests can run
// the real controller and still choose the daemon's behaviour. Set them on
// the target pod (that pod's calls), on the pod's namespace (every pod in
// it) or on the stand-in's own namespace, Options.Namespace (every call:
// shared by every test, so prefer the first two). The closest one wins;
// "false" there turns off a knob set further out. They are read at each
// call, so a change applies to the next call. Not Chaos Mesh features.
const (
	// FailAnnotation makes the call fail with a gRPC error (code Unknown,
	// as chaos-daemon's own errors): "true" uses DefaultFailureMessage and its name,
	// any other value except "false" is the message.
	FailAnnotation = "standin.chaosops.dev/daemon-fail"
	// FailRecoveryAnnotation is FailAnnotation for recoveries only: the
	// calls that would leave the container fewer rules than it holds. The
	// fault is injected, then the controller cannot take it away and keeps
	// its finalizer until the annotation goes (a stuck finalizer).
	FailRecoveryAnnotation = "standin.chaosops.dev/daemon-fail-recovery"
	// DelayAnnotation, a Go duration ("5s"), makes the call wait that long
	// before it is handled. The controller gives up after its RPC timeout
	// (60 s), then sees DeadlineExceeded.
	DelayAnnotation = "standin.chaosops.dev/daemon-delay"
	// UnreachableAnnotation makes the daemon unreachable. On a pod or its
	// namespace, "true" answers the call with code Unavailable and the
	// message of a refused connection (the other pods' calls still work).
	// On Options.Namespace it is real: "true" or "refuse" closes the gRPC
	// listener (connections are refused until the annotation goes), and
	// "unpublished" deletes the EndpointSlice (the controller finds no
	// daemon on the node) until it goes.
	UnreachableAnnotation = "standin.chaosops.dev/daemon-unreachable"

	// DefaultFailureMessage is the message of knob-made failures (value
	// "true"), followed by the annotation's name.
	DefaultFailureMessage = "chaos-daemon stand-in: failure requested by annotation "
)

// Values of UnreachableAnnotation.
const (
	unreachableRefuse      = "refuse"
	unreachableUnpublished = "unpublished"
)

// knobs are the effective behaviours for one call.
type knobs struct {
	fail        string        // failure message; "" succeeds
	failRecover string        // failure message of recoveries; "" succeeds
	delay       time.Duration // wait before handling
	unreachable bool          // answer as a refused connection
}

// scope is where a knob annotation was found, for messages.
type scope struct {
	what        string // "Pod/ns/name", "Namespace/ns"
	annotations map[string]string
}

// knobsFor combines the annotations of scopes, outermost first, so that
// later ones win. A malformed value is an error naming it and where it is.
func knobsFor(scopes ...scope) (knobs, error) {
	var k knobs
	for _, s := range scopes {
		if v, ok := s.annotations[FailAnnotation]; ok {
			k.fail = failureMessage(v, FailAnnotation)
		}
		if v, ok := s.annotations[FailRecoveryAnnotation]; ok {
			k.failRecover = failureMessage(v, FailRecoveryAnnotation)
		}
		if v, ok := s.annotations[DelayAnnotation]; ok {
			d, err := time.ParseDuration(v)
			if v == "false" || v == "" {
				d, err = 0, nil
			}
			if err != nil || d < 0 {
				return k, fmt.Errorf("%s: annotation %s: %q is not a duration; use e.g. \"5s\"", s.what, DelayAnnotation, v)
			}
			k.delay = d
		}
		if v, ok := s.annotations[UnreachableAnnotation]; ok {
			switch v {
			case "", "false":
				k.unreachable = false
			case "true", unreachableRefuse, unreachableUnpublished:
				// On the stand-in's namespace the transport follows (see
				// transportKnob); a call that still arrives is refused too.
				k.unreachable = true
			default:
				return k, fmt.Errorf("%s: annotation %s: %q is not one of true, false, %s, %s",
					s.what, UnreachableAnnotation, v, unreachableRefuse, unreachableUnpublished)
			}
		}
	}
	return k, nil
}

// transportKnob is what UnreachableAnnotation on the stand-in's namespace
// asks of the transport: serve ("" or "false"), refuse or unpublished.
func transportKnob(annotations map[string]string) (string, error) {
	switch v := annotations[UnreachableAnnotation]; v {
	case "", "false":
		return "", nil
	case "true", unreachableRefuse:
		return unreachableRefuse, nil
	case unreachableUnpublished:
		return unreachableUnpublished, nil
	default:
		return "", fmt.Errorf("annotation %s: %q is not one of true, false, %s, %s",
			UnreachableAnnotation, v, unreachableRefuse, unreachableUnpublished)
	}
}

func failureMessage(v, annotation string) string {
	switch v {
	case "", "false":
		return ""
	case "true":
		return DefaultFailureMessage + annotation
	}
	return v
}
