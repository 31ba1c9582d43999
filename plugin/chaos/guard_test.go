package chaos_test

import (
	"strings"
	"testing"
	"time"

	"github.com/cloudify-chaos/chaosops/plugin/chaos"
)

func TestRunRefusedBeforeAnythingIsCreated(t *testing.T) {
	f := newFixture(t)
	cases := []struct {
		name   string
		change func(*chaos.RunOptions)
		want   string
	}{
		{"the safety lever on refuses new runs", func(o *chaos.RunOptions) { o.Guard.SafetyLever = "on" }, "chaos-safety-lever is on"},
		{"a namespace outside allowed_namespaces is refused", func(o *chaos.RunOptions) { o.Guard.AllowedNamespaces = []string{"prod-app"} }, "not in allowed_namespaces"},
		{"a port outside allowed_ports is refused", func(o *chaos.RunOptions) { o.Guard.AllowedPorts = []int{80} }, "port 8080 is not in allowed_ports"},
		{"a duration above max_duration is refused", func(o *chaos.RunOptions) {
			d := "20m"
			o.Object.Spec.Common().Duration = &d
		}, "longer than max_duration 10m0s"},
		{"mode all needs allow_all_targets", func(o *chaos.RunOptions) {
			spec, _ := o.Object.Spec.(interface{ Kind() string })
			_ = spec
			setMode(o, "all", "")
		}, "set allow_all_targets: true"},
		{"a percentage above the limit needs allow_all_targets", func(o *chaos.RunOptions) { setMode(o, "fixed-percent", "80") }, "above the 50% limit"},
		{"the monitoring namespace is never targeted", func(o *chaos.RunOptions) { setNamespaces(o, "monitoring") }, "namespace monitoring is never targeted"},
		{"the Chaos Mesh namespace is never targeted", func(o *chaos.RunOptions) { setNamespaces(o, "chaos-mesh") }, "namespace chaos-mesh is never targeted"},
		{"a selector matching no Running pod is refused", func(o *chaos.RunOptions) { setLabels(o, map[string]string{"app": "nothing"}) }, "selector app=nothing matches no Running pod"},
		{"a missing namespace is refused", func(o *chaos.RunOptions) { setNamespaces(o, "no-such-ns") }, "namespace no-such-ns does not exist"},
		{"a missing Chaos Mesh controller is refused", func(o *chaos.RunOptions) { o.ChaosNamespace = "no-chaos-here" }, "is Chaos Mesh installed"},
		{"a failing gate probe refuses the run", func(o *chaos.RunOptions) {
			o.Hooks.Before = func(ctxT) error { return errGate }
		}, "gate: success rate 40% < 99%"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := f.opts(f.httpAbort(t))
			tc.change(&o)
			res, err := f.r.Run(t.Context(), o)
			if err == nil || res.Verdict != chaos.VerdictPrecheckFailed || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("verdict %v, err %v; want precheck_failed with %q", res.Verdict, err, tc.want)
			}
			if res.Created != (time.Time{}) {
				t.Error("an object was created")
			}
			f.assertNoChaosLeft(t)
		})
	}
}

func TestEarlierRunStillInjectedRefusesANewOne(t *testing.T) {
	f := newFixture(t)
	first := f.opts(f.httpAbort(t))
	d := "30s"
	first.Object.Spec.Common().Duration = &d
	done := make(chan *chaos.Result)
	ctx, cancel := ctxWithCancel(t)
	first.Hooks.During = func(context ctxT, _ func(string)) {
		second := f.opts(f.httpAbort(t))
		_, err := f.r.Run(t.Context(), second)
		if err == nil || !strings.Contains(err.Error(), "is still injected; wait for it to end or run reap") {
			t.Errorf("second run: %v", err)
		}
		cancel()
	}
	go func() {
		res, _ := f.r.Run(ctx, first)
		done <- res
	}()
	if res := <-done; res.Verdict != chaos.VerdictCancelled {
		t.Errorf("first run verdict %s", res.Verdict)
	}
	f.assertNoChaosLeft(t)
}
