package report

import (
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/cloudify-chaos/chaosops/plugin/chaos"
	"github.com/cloudify-chaos/chaosops/plugin/chaos/api"
	"github.com/cloudify-chaos/chaosops/plugin/probe"
)

// start is when the fixture run starts; its traffic starts at the same
// second, so chart seconds equal run seconds.
var start = time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)

func at(sec float64) time.Time { return start.Add(time.Duration(sec * float64(time.Second))) }

// Secrets the fixture carries; none may reach a written file.
var fixtureSecrets = []string{"s3cret-pass", "hunter2-prom", "tok-very-secret"}

// fixture is an HTTPChaos run whose fault was in place from +5s to +35s:
// probe "web" sends 10 requests/s and only 1 gets through in the window;
// probe "api" sends 5/s, all served, and sent nothing at +20s; a PromQL
// probe "errors" failed during the window.
func fixture() *Journal {
	dur, path := "30s", "/"
	abort := true
	run := &chaos.Result{
		Ref: "HTTPChaos/demo/httpchaos-3f9c1a2b", Kind: "HTTPChaos", Namespace: "demo", Name: "httpchaos-3f9c1a2b", RunID: "3f9c1a2b",
		Verdict: chaos.VerdictSLOBreach, Reason: "probe web: success 10.0 % < 95.0 % during the injection",
		Started: at(0), Ended: at(40), Created: at(2), Injected: at(5), Recovered: at(35), Deleted: at(37),
		Cleanup: &chaos.Cleanup{Outcome: chaos.CleanupComplete},
		Targets: []api.Record{{
			Id: "demo/demo-7d9f-abcde", SelectorKey: ".", Phase: api.PhaseNotInjected, InjectedCount: 1, RecoveredCount: 1,
			Events: []api.RecordEvent{
				{Type: api.EventSucceeded, Operation: api.OperationApply, Timestamp: metav1.NewTime(at(4))},
				{Type: api.EventSucceeded, Operation: api.OperationRecover, Timestamp: metav1.NewTime(at(35))},
			},
		}},
		Spec: &api.HTTPChaosSpec{
			PodSelector: api.PodSelector{Selector: api.PodSelectorSpec{Namespaces: []string{"demo"}, LabelSelectors: map[string]string{"app": "demo"}}, Mode: api.ModeOne},
			CommonSpec:  api.CommonSpec{Duration: &dur},
			Target:      api.HTTPRequest, Port: 8080, Path: &path, Abort: &abort,
		},
		Timeline: []chaos.Event{
			{At: at(0.5), Step: chaos.StepPreflight, Detail: "1 target Running, chaos-daemon ready"},
			{At: at(2), Step: chaos.StepCreated, Detail: "HTTPChaos/demo/httpchaos-3f9c1a2b"},
			{At: at(3), Step: chaos.StepSelected, Detail: "1 record"},
			{At: at(5), Step: chaos.StepInjected, Detail: "all targets injected"},
			{At: at(20), Step: chaos.StepProbe, Detail: "web breached | aborting; GET http://probe:s3cret-pass@demo.demo.svc:8080/ failed"},
			{At: at(35), Step: chaos.StepRecovered, Detail: "all targets recovered"},
			{At: at(37), Step: chaos.StepDeleted, Detail: "gone"},
		},
	}
	j := &Journal{
		Version: JournalVersion, Verdict: run.Verdict, Reason: run.Reason, Cleanup: run.Cleanup, Run: run,
		Probes: []probe.Spec{
			{Name: "web", Kind: probe.HTTP, URL: "http://probe:s3cret-pass@demo.demo.svc:8080/", Method: "GET", StatusMin: 200, StatusMax: 399,
				Timeout: 2 * time.Second, RPS: 10, Window: 10 * time.Second, MinSuccess: 0.95, During: probe.MustHold, Interval: 5 * time.Second},
			{Name: "api", Kind: probe.HTTP, URL: "http://demo.demo.svc:8080/api", RPS: 5, During: probe.Deviate},
			{Name: "errors", Kind: probe.PromQL, Query: `sum(rate(http_requests_total{status=~"5.."}[1m]))`, Comparator: "<", Threshold: 1,
				PrometheusURL: "https://admin:hunter2-prom@prometheus.monitoring:9090", BearerToken: "tok-very-secret"},
		},
	}
	for s := 0; s < 45; s++ {
		web := probe.Point{At: at(float64(s)), Probe: "web", Sent: 10, OK: 10, P95: 20 * time.Millisecond}
		if s >= 5 && s < 35 {
			web.OK = 1
		}
		api := probe.Point{At: at(float64(s)), Probe: "api", Sent: 5, OK: 5}
		if s == 20 {
			api.Sent, api.OK = 0, 0
		}
		j.Traffic = append(j.Traffic, web, api)
	}
	for _, s := range []struct {
		sec   float64
		phase probe.Phase
	}{{1, probe.Before}, {10, probe.During}, {15, probe.During}, {20, probe.During}, {42, probe.After}} {
		during := s.phase == probe.During
		web := probe.Sample{At: at(s.sec), Probe: "web", Phase: s.phase, OK: !during, Value: 1}
		errs := probe.Sample{At: at(s.sec), Probe: "errors", Phase: s.phase, OK: !during, Value: 0.2}
		if during {
			web.Value, web.Detail = 0.1, "1 of 10 requests to http://probe:s3cret-pass@demo.demo.svc:8080/ succeeded"
			errs.Value, errs.Detail = 4.5, "query at https://admin:hunter2-prom@prometheus.monitoring:9090 returned 4.5"
		}
		j.Samples = append(j.Samples, web, errs)
	}
	return j
}
