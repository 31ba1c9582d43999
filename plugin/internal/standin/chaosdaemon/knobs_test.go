package chaosdaemon

import (
	"testing"
	"time"
)

func TestKnobsFor(t *testing.T) {
	global := func(a map[string]string) scope { return scope{"Namespace/chaos-mesh", a} }
	ns := func(a map[string]string) scope { return scope{"Namespace/demo", a} }
	pod := func(a map[string]string) scope { return scope{"Pod/demo/app", a} }
	for _, tc := range []struct {
		name    string
		scopes  []scope
		want    knobs
		wantErr string
	}{
		{"no annotations change nothing", []scope{global(nil), ns(nil), pod(nil)}, knobs{}, ""},
		{"a pod annotation of true fails with the default message", []scope{pod(map[string]string{FailAnnotation: "true"})},
			knobs{fail: DefaultFailureMessage + FailAnnotation}, ""},
		{"any other value is the message", []scope{pod(map[string]string{FailAnnotation: "disk full"})},
			knobs{fail: "disk full"}, ""},
		{"a fail-recovery annotation fails only recoveries", []scope{pod(map[string]string{FailRecoveryAnnotation: "true"})},
			knobs{failRecover: DefaultFailureMessage + FailRecoveryAnnotation}, ""},
		{"a namespace annotation applies to its pods", []scope{global(nil), ns(map[string]string{DelayAnnotation: "2s"}), pod(nil)},
			knobs{delay: 2 * time.Second}, ""},
		{"the closest scope wins, and false turns a knob off", []scope{
			global(map[string]string{FailAnnotation: "true", UnreachableAnnotation: "true"}),
			ns(map[string]string{DelayAnnotation: "2s"}),
			pod(map[string]string{FailAnnotation: "false", DelayAnnotation: "100ms"}),
		}, knobs{delay: 100 * time.Millisecond, unreachable: true}, ""},
		{"every unreachable value refuses the call", []scope{pod(map[string]string{UnreachableAnnotation: "unpublished"})},
			knobs{unreachable: true}, ""},
		{"a bad delay names the annotation and where it is", []scope{ns(map[string]string{DelayAnnotation: "soon"})}, knobs{},
			`Namespace/demo: annotation standin.chaosops.dev/daemon-delay: "soon" is not a duration; use e.g. "5s"`},
		{"a negative delay is refused", []scope{pod(map[string]string{DelayAnnotation: "-1s"})}, knobs{},
			`Pod/demo/app: annotation standin.chaosops.dev/daemon-delay: "-1s" is not a duration; use e.g. "5s"`},
		{"a bad unreachable value lists the good ones", []scope{pod(map[string]string{UnreachableAnnotation: "yes"})}, knobs{},
			`Pod/demo/app: annotation standin.chaosops.dev/daemon-unreachable: "yes" is not one of true, false, refuse, unpublished`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := knobsFor(tc.scopes...)
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

func TestTransportKnob(t *testing.T) {
	for _, tc := range []struct {
		value, want, wantErr string
	}{
		{"", "", ""},
		{"false", "", ""},
		{"true", "refuse", ""},
		{"refuse", "refuse", ""},
		{"unpublished", "unpublished", ""},
		{"later", "", `annotation standin.chaosops.dev/daemon-unreachable: "later" is not one of true, false, refuse, unpublished`},
	} {
		got, err := transportKnob(map[string]string{UnreachableAnnotation: tc.value})
		if (err == nil) != (tc.wantErr == "") || err != nil && err.Error() != tc.wantErr || got != tc.want {
			t.Errorf("transportKnob(%q) = %q, %v; want %q, %q", tc.value, got, err, tc.want, tc.wantErr)
		}
	}
}
