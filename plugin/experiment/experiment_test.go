package experiment_test

import (
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cloudify-chaos/chaosops/plugin/chaos"
	"github.com/cloudify-chaos/chaosops/plugin/experiment"
	"github.com/cloudify-chaos/chaosops/plugin/internal/apprig"
	"github.com/cloudify-chaos/chaosops/plugin/internal/testenv"
	"github.com/cloudify-chaos/chaosops/plugin/probe"
	"github.com/cloudify-chaos/chaosops/plugin/report"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// rig adds the run's helpers to the app rig.
type rig struct {
	*apprig.Rig
	runner *chaos.Runner
}

func newRig(t *testing.T, withPrometheus bool) *rig {
	r := apprig.New(t, apprig.Options{Prometheus: withPrometheus})
	return &rig{Rig: r, runner: &chaos.Runner{Dynamic: r.Dynamic, Log: slog.New(slog.NewTextHandler(testWriter{t}, nil)), Now: time.Now}}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// abort is an HTTPChaos that aborts requests to path on the demo pod.
func (r *rig) abort(t *testing.T, path string, d time.Duration) chaos.RunOptions {
	t.Helper()
	obj, err := chaos.HTTPObject(chaos.HTTPOptions{
		Namespace: r.Namespace, Selector: map[string]string{"app": "demo"}, Mode: "one",
		Port: 8080, Path: path, Abort: true, Duration: d,
	})
	if err != nil {
		t.Fatal(err)
	}
	return chaos.RunOptions{Object: obj, Namespace: r.Namespace, Owner: chaos.Owner{Deployment: "experiment-test"}, InjectionTimeout: 30 * time.Second}
}

func (r *rig) httpProbe(expect probe.Expect) probe.Spec {
	return probe.Spec{Name: "orders", Kind: probe.HTTP, URL: r.ProxyURL + "/api/orders", RPS: 25,
		Window: 2 * time.Second, Interval: 250 * time.Millisecond, MinSuccess: 0.9, During: expect}
}

func TestExperimentVerdicts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		prometheus bool
		faultPath  string
		duration   time.Duration
		probes     func(r *rig) []probe.Spec
		want       chaos.Verdict
		reason     string // substring of the reason
	}{
		{
			name: "expected deviation seen", faultPath: "/api/*", duration: 4 * time.Second,
			probes: func(r *rig) []probe.Spec { return []probe.Spec{r.httpProbe(probe.Deviate)} },
			want:   chaos.VerdictPass,
		},
		{
			name: "expected deviation never seen", faultPath: "/elsewhere/*", duration: 3 * time.Second,
			probes: func(r *rig) []probe.Spec { return []probe.Spec{r.httpProbe(probe.Deviate)} },
			want:   chaos.VerdictNoEffect, reason: "orders",
		},
		{
			name: "must-hold breach aborts", faultPath: "/api/*", duration: 5 * time.Minute,
			probes: func(r *rig) []probe.Spec { return []probe.Spec{r.httpProbe(probe.MustHold)} },
			want:   chaos.VerdictSLOBreach, reason: "orders",
		},
		{
			name: "failing PromQL gate blocks the run", prometheus: true, faultPath: "/api/*", duration: time.Minute,
			probes: func(r *rig) []probe.Spec {
				return []probe.Spec{{Name: "gate", Kind: probe.PromQL, Phases: []probe.Phase{probe.Before},
					Query: "sum(" + apprig.RequestsMetric + ")", Comparator: ">", Threshold: 1e9, PrometheusURL: r.PrometheusURL}}
			},
			want: chaos.VerdictPrecheckFailed, reason: "gate",
		},
		{
			name: "PromQL sees the drop in the app's own metrics", prometheus: true, faultPath: "/api/*", duration: 12 * time.Second,
			probes: func(r *rig) []probe.Spec {
				return []probe.Spec{r.httpProbe(probe.Deviate), {Name: "served", Kind: probe.PromQL,
					Phases: []probe.Phase{probe.During}, During: probe.Deviate, Interval: 500 * time.Millisecond,
					Query: "sum(rate(" + apprig.RequestsMetric + `{path="/api/orders"}[3s]))`, Comparator: ">", Threshold: 5, PrometheusURL: r.PrometheusURL}}
			},
			want: chaos.VerdictPass,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := newRig(t, tc.prometheus)
			dir := filepath.Join(t.TempDir(), "report")
			start := time.Now()
			out, err := experiment.Run(t.Context(), r.runner, experiment.Options{
				Run: r.abort(t, tc.faultPath, tc.duration), Probes: tc.probes(r), Settle: 8 * time.Second, ReportDir: dir,
			})
			if out == nil {
				t.Fatalf("no outcome: %v", err)
			}
			res := out.Result
			if res.Verdict != tc.want || !strings.Contains(res.Reason, tc.reason) {
				t.Fatalf("verdict %s (%s), want %s with %q in the reason; err %v", res.Verdict, res.Reason, tc.want, tc.reason, err)
			}
			if n := r.ChaosObjects(t); n != 0 {
				t.Errorf("%d chaos objects left", n)
			}
			switch tc.want {
			case chaos.VerdictPrecheckFailed:
				if !res.Created.IsZero() {
					t.Errorf("a refused run created its object at %v", res.Created)
				}
			case chaos.VerdictSLOBreach:
				if took := time.Since(start); took > time.Minute {
					t.Errorf("the breach did not end the %v run early: %v", tc.duration, took)
				}
			}
			checkReport(t, out, dir)
			if tc.want == chaos.VerdictPass {
				apprig.CheckTrafficShape(t, out.Journal, "orders")
			}
		})
	}
}

// checkReport: the three files exist, the journal parses with the verdict
// and the cleanup outcome at the top level, report.md says how the object
// went, and the chart shades the injection window.
func checkReport(t *testing.T, out *experiment.Outcome, dir string) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, report.JournalFile))
	if err != nil {
		t.Fatal(err)
	}
	var top struct {
		Verdict string         `json:"verdict"`
		Cleanup *chaos.Cleanup `json:"cleanup"`
	}
	if err := json.Unmarshal(raw, &top); err != nil || top.Verdict != string(out.Result.Verdict) {
		t.Errorf("journal.json verdict %q (err %v), want %q", top.Verdict, err, out.Result.Verdict)
	}
	// Every object these runs create is gone by the end: complete.
	wantCleanup, wantMD := "complete", "**Outcome: `complete`**"
	if out.Result.Created.IsZero() {
		wantCleanup, wantMD = "", "| Cleanup | none needed: nothing was created |"
	}
	if got := top.Cleanup; (got == nil && wantCleanup != "") || (got != nil && string(got.Outcome) != wantCleanup) {
		t.Errorf("journal.json cleanup %+v, want outcome %q", got, wantCleanup)
	}
	j, err := report.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(j.Samples) == 0 {
		t.Error("journal has no probe samples")
	}
	md, err := os.ReadFile(filepath.Join(dir, report.MarkdownFile))
	if err != nil || !strings.Contains(string(md), string(out.Result.Verdict)) {
		t.Errorf("report.md lacks the verdict (err %v)", err)
	}
	if !strings.Contains(string(md), wantMD) {
		t.Errorf("report.md lacks the cleanup outcome %q", wantMD)
	}
	svg, err := os.ReadFile(filepath.Join(dir, report.ChartFile))
	if err != nil {
		t.Fatal(err)
	}
	if !out.Result.Injected.IsZero() && !strings.Contains(string(svg), "injection") {
		t.Error("chart.svg does not mark the injection window")
	}
	if out.Summary["verdict"] != string(out.Result.Verdict) {
		t.Errorf("summary verdict %v", out.Summary["verdict"])
	}
}
