package controllerstandin

import (
	"testing"
	"time"
)

func TestKnobsFor(t *testing.T) {
	for _, tc := range []struct {
		name        string
		opts        Options
		annotations map[string]string
		want        knobs
		wantErr     string
	}{
		{"no options and no annotations change nothing", Options{}, nil, knobs{}, ""},
		{"options apply to every object", Options{FailInjection: true, StickyFinalizer: true, InjectionDelay: time.Second},
			nil, knobs{failInjection: DefaultFailureMessage, stickyFinal: true, injectionDelay: time.Second}, ""},
		{"an annotation value other than true is the message", Options{},
			map[string]string{FailInjectionAnnotation: "daemon unreachable", FailRecoveryAnnotation: "true"},
			knobs{failInjection: "daemon unreachable", failRecovery: DefaultFailureMessage}, ""},
		{"an annotation overrides the option", Options{FailInjection: true, StickyFinalizer: true},
			map[string]string{FailInjectionAnnotation: "false", StickyFinalizerAnnotation: "false"}, knobs{}, ""},
		{"a delay annotation is a duration", Options{}, map[string]string{InjectionDelayAnnotation: "250ms"},
			knobs{injectionDelay: 250 * time.Millisecond}, ""},
		{"a bad delay names the annotation", Options{}, map[string]string{InjectionDelayAnnotation: "soon"}, knobs{},
			`annotation standin.chaosops.dev/injection-delay: "soon" is not a duration; use e.g. "2s"`},
		{"a bad boolean names the annotation", Options{}, map[string]string{StickyFinalizerAnnotation: "yes please"}, knobs{},
			`annotation standin.chaosops.dev/sticky-finalizer: "yes please" is not true or false`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := knobsFor(tc.opts, tc.annotations)
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("error %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("knobsFor = %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
}
