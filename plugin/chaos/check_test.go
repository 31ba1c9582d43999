package chaos_test

import (
	"strings"
	"testing"
	"time"

	"github.com/cloudify-chaos/chaosops/plugin/chaos"
	"github.com/cloudify-chaos/chaosops/plugin/failure"
)

// TestCheckNeedsNoCluster: RunOptions.Check refuses bad values as invalid
// input (exit 2) and well-formed runs the policy forbids as a precheck
// (exit 3), with no cluster at all.
func TestCheckNeedsNoCluster(t *testing.T) {
	tests := []struct {
		name     string
		change   func(*chaos.HTTPOptions, *chaos.RunOptions)
		want     string
		precheck bool // else invalid
	}{
		{"a valid run passes", func(*chaos.HTTPOptions, *chaos.RunOptions) {}, "", false},
		{"a negative duration is a bad value", func(_ *chaos.HTTPOptions, o *chaos.RunOptions) { o.Duration = -5 * time.Second }, "duration: -5s is negative", false},
		{"a duration over max_duration is a bad value", func(_ *chaos.HTTPOptions, o *chaos.RunOptions) { o.Duration = 1000 * time.Hour }, "duration: 1000h0m0s is longer than max_duration 10m0s", false},
		{"an unknown mode is a bad value", func(h *chaos.HTTPOptions, _ *chaos.RunOptions) { h.Mode = "sometimes" }, "mode", false},
		{"a percentage over max_percent is a bad value", func(h *chaos.HTTPOptions, _ *chaos.RunOptions) { h.Mode, h.Value = "fixed-percent", "80" }, "value: mode fixed-percent with value 80% is above the 50% limit", false},
		{"mode all without allow_all_targets is a bad value", func(h *chaos.HTTPOptions, _ *chaos.RunOptions) { h.Mode = "all" }, "mode: all affects every matched pod", false},
		{"a namespace that is no DNS label is a bad value", func(h *chaos.HTTPOptions, o *chaos.RunOptions) { h.Namespace, o.Namespace = "Bad_NS!", "Bad_NS!" }, `namespace: "Bad_NS!" is not a namespace name`, false},
		{"a chaos namespace that is no DNS label is a bad value", func(_ *chaos.HTTPOptions, o *chaos.RunOptions) { o.ChaosNamespace = "Bad_NS!" }, "chaos_namespace", false},
		{"the safety lever on is a policy refusal", func(_ *chaos.HTTPOptions, o *chaos.RunOptions) { o.Guard.SafetyLever = "on" }, "chaos-safety-lever is on", true},
		{"a lever neither on nor off refuses too", func(_ *chaos.HTTPOptions, o *chaos.RunOptions) { o.Guard.SafetyLever = "onn" }, "safety_lever", true},
		{"a namespace outside allowed_namespaces is a policy refusal", func(_ *chaos.HTTPOptions, o *chaos.RunOptions) { o.Guard.AllowedNamespaces = []string{"prod"} }, "not in allowed_namespaces", true},
		{"a protected namespace is a policy refusal", func(h *chaos.HTTPOptions, o *chaos.RunOptions) {
			h.Namespace, o.Namespace = "kube-system", "kube-system"
		}, "never targeted", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := chaos.HTTPOptions{Namespace: "demo", Selector: map[string]string{"app": "demo"}, Mode: "one", Target: "Request", Port: 8080, Path: "/", Abort: true}
			o := chaos.RunOptions{Namespace: "demo", Duration: time.Minute}
			tt.change(&h, &o)
			obj, err := chaos.HTTPObject(h)
			if err == nil {
				o.Object = obj
				err = o.Check()
			}
			switch {
			case tt.want == "":
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			case err == nil || !strings.Contains(err.Error(), tt.want):
				t.Fatalf("error %v, want one containing %q", err, tt.want)
			case tt.precheck && (!chaos.IsPrecheck(err) || failure.IsInvalid(err)):
				t.Errorf("error %v is not a policy refusal (precheck_failed, exit 3)", err)
			case !tt.precheck && !failure.IsInvalid(err):
				t.Errorf("error %v is not invalid input (exit 2)", err)
			}
		})
	}
}
