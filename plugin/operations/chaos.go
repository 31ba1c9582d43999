package operations

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cloudify-chaos/chaosops/plugin/chaos"
	"github.com/cloudify-chaos/chaosops/plugin/chaos/api"
	"github.com/cloudify-chaos/chaosops/plugin/cloudify"
	"github.com/cloudify-chaos/chaosops/plugin/cloudify/operation"
	"github.com/cloudify-chaos/chaosops/plugin/experiment"
	"github.com/cloudify-chaos/chaosops/plugin/probe"
	"github.com/cloudify-chaos/chaosops/plugin/report"
)

// chaosRunInputs are the safety and timing inputs of every run.
var chaosRunInputs = []operation.Input{
	{Name: "duration", Default: "2m", Description: "how long the fault lasts (spec.duration; the cluster ends it even if chaosops dies)"},
	{Name: "injection_timeout", Default: "2m", Description: "how long to wait for every target to be injected (a permanent failure, such as no chaos-daemon on the node, ends the wait at once)"},
	{Name: "recovery_timeout", Default: "2m", Description: "after the duration, how long to wait for the controller to stop the fault, then how long to wait for recovery"},
	{Name: "delete_timeout", Default: "1m", Description: "how long to wait for the deleted object to be gone, after a cancel too, before it counts as stuck (cleanup incomplete: the finalizer and the next step are reported)"},
	{Name: "force_cleanup", Default: "false", Description: "remove a stuck chaos-mesh/records finalizer and the run's entries in the targets' Pod*Chaos objects (recovery then unverified)"},
	{Name: "allowed_namespaces", Description: "list: the only namespaces a run may target"},
	{Name: "allowed_ports", Description: "list: the only ports an HTTPChaos may target"},
	{Name: "max_duration", Default: "10m", Description: "longest duration allowed"},
	{Name: "allow_all_targets", Default: "false", Description: "allow mode all and percentages above max_percent"},
	{Name: "max_percent", Default: "50", Description: "largest fixed-percent/random-max-percent value without allow_all_targets"},
	{Name: "safety_lever", Description: "value of the chaos-safety-lever secret ({get_secret: chaos-safety-lever}); on refuses new runs"},
	{Name: "chaos_namespace", Default: "chaos-mesh", Description: "namespace Chaos Mesh runs in"},
	{Name: "skip_daemon_check", Default: "false", Description: "skip the chaos-daemon check of the preflight"},
	{Name: "fail_on", Description: "list of verdicts that fail the operation (default: every verdict but pass)"},
}

// probeInputs configure the steady-state probes and the report of a run.
var probeInputs = []operation.Input{
	{Name: "probe_url", Description: "URL the built-in load generator calls (HTTP probe); usually the faulted path of the app"},
	{Name: "probe_method", Default: "GET", Description: "HTTP method of the probe's requests"},
	{Name: "probe_rps", Default: "5", Description: "requests per second of the load generator (at most 200)"},
	{Name: "probe_window", Default: "10s", Description: "window over which the HTTP probe's success rate is measured"},
	{Name: "probe_interval", Default: "5s", Description: "how often the probes are evaluated during the injection"},
	{Name: "probe_min_success", Default: "0.95", Description: "success rate (0..1) the HTTP probe needs to pass"},
	{Name: "probe_expect", Default: "deviate", Description: "HTTP probe during the injection: deviate (failures prove the fault; none = no_effect) or must_hold (a failure aborts: slo_breach)"},
	{Name: "promql", Description: "PromQL probe: an instant query evaluated before, during and after the injection"},
	{Name: "promql_comparator", Default: ">=", Description: "how every series of the query compares with promql_threshold: > >= < <= == !="},
	{Name: "promql_threshold", Default: "0", Description: "threshold of the PromQL probe"},
	{Name: "promql_expect", Default: "must_hold", Description: "PromQL probe during the injection: must_hold (a breach aborts the run) or deviate"},
	{Name: "prometheus_url", Description: "Prometheus base URL for PromQL probes, e.g. http://prometheus-k8s.monitoring:9090"},
	{Name: "prometheus_token", Description: "bearer token for Prometheus", Sensitive: true},
	{Name: "prometheus_ca_cert", Description: "path of the CA bundle that signed Prometheus' certificate"},
	{Name: "probes", Description: "list of probe specs {name, kind: http|promql, phases, during, url, rps, window, min_success, query, comparator, threshold, ...} beside the shorthands"},
	{Name: "settle", Default: "30s", Description: "how long after recovery the after-phase probes may take to pass again (else recovered_but_degraded)"},
	{Name: "report_dir", Default: "$CHAOSOPS_WORKDIR/<deployment>/reports/<chaos object>", Description: "folder for journal.json, report.md and chart.svg"},
	{Name: "grafana_url", Description: "Grafana base URL: each run's injection window is posted as an annotation"},
	{Name: "grafana_token", Description: "Grafana service account token (Editor) for the annotation", Sensitive: true},
	{Name: "grafana_dashboard_uid", Description: "dashboard the annotation belongs to (default: an organisation-wide annotation)"},
	{Name: "grafana_ca_cert", Description: "path of the CA bundle that signed Grafana's certificate"},
}

// Chaos returns the chaos_actions.* handlers.
func Chaos() []operation.Handler {
	withConn := func(in ...operation.Input) []operation.Input {
		return append(append([]operation.Input{}, connInputs...), in...)
	}
	httpInputs := withConn(append([]operation.Input{
		{Name: "manifest", Description: "YAML of a chaos object to run instead of the built-in HTTPChaos template"},
		{Name: "namespace", Default: "default", Description: "namespace of the target pods and of the chaos object"},
		{Name: "selector", Default: "app=python-prometheus", Description: "labels of the target pods: app=demo,tier=web or a dict"},
		{Name: "mode", Default: "one", Description: "one, all, fixed, fixed-percent, random-max-percent"},
		{Name: "value", Description: "the number or percentage for fixed, fixed-percent, random-max-percent"},
		{Name: "target", Default: "Request", Description: "Request or Response"},
		{Name: "port", Default: "8080", Description: "container port the app listens on"},
		{Name: "path", Default: "/", Description: "URI path to match (* wildcards)"},
		{Name: "method", Description: "HTTP method to match (default: any)"},
		{Name: "abort", Default: "true", Description: "abort matching requests"},
		{Name: "delay", Description: "delay matching requests, e.g. 500ms"},
		{Name: "replace", Description: "dict: HTTPChaos replace (path, method, code, body, headers, queries)"},
		{Name: "patch", Description: "dict: HTTPChaos patch (body, headers, queries)"},
		{Name: "code", Description: "response status code to match (target Response)"},
	}, chaosRunInputs...)...)
	preflightInputs := httpInputs
	httpInputs = append(httpInputs[:len(httpInputs):len(httpInputs)], probeInputs...)
	sel := withConn(
		operation.Input{Name: "namespace", Description: "namespace to search (default: every namespace)"},
		operation.Input{Name: "run_id", Description: "one run only"},
	)
	reapInputs := append(sel[:len(sel):len(sel)],
		operation.Input{Name: "delete_timeout", Default: "1m", Description: "how long to wait for each deleted object to be gone; then it is stuck (cleanup incomplete), or with force_cleanup forced off"},
		operation.Input{Name: "force_cleanup", Default: "false", Description: "remove stuck finalizers and the runs' entries in Pod*Chaos objects (recovery then unverified)"},
	)
	return []operation.Handler{
		{Name: "chaos_actions.run_http_chaos", Summary: "Run one HTTPChaos safely: guardrails, preflight, create, wait for injection, hold, wait for recovery, delete; report a verdict.", Inputs: httpInputs, Timeout: time.Hour, CancelGrace: chaosCancelGrace, Run: runHTTPChaos},
		{Name: "chaos_actions.run", Summary: "Run any Chaos Mesh experiment (manifest input) with the same lifecycle and guardrails.", Inputs: withConn(append([]operation.Input{
			{Name: "manifest", Description: "YAML of the chaos object (PodChaos, NetworkChaos, StressChaos, IOChaos, DNSChaos, TimeChaos, JVMChaos, KernelChaos, HTTPChaos)"},
			{Name: "namespace", Default: "default", Description: "namespace of the chaos object when the manifest has none"},
		}, append(chaosRunInputs, probeInputs...)...)...), Timeout: time.Hour, CancelGrace: chaosCancelGrace, Run: runChaosManifest},
		{Name: "chaos_actions.pause", Summary: "Pause this deployment's running experiments (experiment.chaos-mesh.org/pause).", Inputs: sel, Run: pauseChaos(true)},
		{Name: "chaos_actions.resume", Summary: "Resume this deployment's paused experiments.", Inputs: sel, Run: pauseChaos(false)},
		{Name: "chaos_actions.status", Summary: "Record the conditions and per-target records of this deployment's experiments in runtime property chaos_status.", Inputs: sel, Run: chaosStatus},
		{Name: "chaos_actions.reap", Summary: "Delete every chaos object this deployment created (by label) and wait until gone.", Inputs: reapInputs, Run: reapChaos(false)},
		{Name: "chaos_actions.halt_all", Summary: "Delete every chaos object chaosops created in the cluster, of any deployment.", Inputs: reapInputs, Run: reapChaos(true)},
		{Name: "chaos_actions.preflight", Summary: "Check that an HTTPChaos run could start (CRDs, namespace, targets, controller, opt-in, guardrails) without creating anything.", Inputs: preflightInputs, Run: preflightChaos},
		{Name: "chaos_actions.dashboard_token", Summary: "Mint a short-lived Chaos Dashboard token (TokenRequest) for a least-privilege viewer or manager ServiceAccount.", Inputs: withConn(
			operation.Input{Name: "namespace", Default: "default", Description: "the app namespace the token may act in"},
			operation.Input{Name: "role", Default: "viewer", Description: "viewer or manager"},
			operation.Input{Name: "ttl", Default: "1h", Description: "token lifetime (at least 10m)"},
		), Run: dashboardToken},
	}
}

// owner labels a run with the Cloudify ids; the run id is derived from
// the execution and instance, so a retried operation adopts its object.
func owner(ctx context.Context, op *operation.Op) (chaos.Owner, error) {
	var o chaos.Owner
	var err error
	if o.Deployment, err = op.Ctx.DeploymentID(ctx); err != nil {
		return o, err
	}
	if o.Blueprint, err = op.Ctx.BlueprintID(ctx); err != nil {
		return o, err
	}
	if o.Execution, err = op.Ctx.ExecutionID(ctx); err != nil {
		return o, err
	}
	inst, err := op.Ctx.InstanceID(ctx)
	if err != nil {
		return o, err
	}
	o.RunID = chaos.RunIDFor(o.Execution, inst)
	return o, nil
}

func stringList(op *operation.Op, name string) ([]string, error) {
	l, err := op.Inputs.List(name)
	out := make([]string, 0, len(l))
	for _, v := range l {
		out = append(out, fmt.Sprint(v))
	}
	return out, err
}

func runOptions(ctx context.Context, op *operation.Op, obj *api.Object) (chaos.RunOptions, error) {
	in := op.Inputs
	o := chaos.RunOptions{Object: obj, Namespace: in.String("namespace", "default"), ChaosNamespace: in.String("chaos_namespace", "")}
	var errs []error
	dur := func(name string, def time.Duration) time.Duration {
		d, err := in.Duration(name, def)
		errs = append(errs, err)
		return d
	}
	boolean := func(name string) bool {
		b, err := in.Bool(name, false)
		errs = append(errs, err)
		return b
	}
	o.Duration = dur("duration", chaos.DefaultDuration)
	o.InjectionTimeout = dur("injection_timeout", 0)
	o.RecoveryTimeout = dur("recovery_timeout", 0)
	o.DeleteTimeout = dur("delete_timeout", 0)
	o.Guard.MaxDuration = dur("max_duration", 0)
	o.ForceCleanup = boolean("force_cleanup")
	o.Guard.AllowAllTargets = boolean("allow_all_targets")
	o.SkipDaemonCheck = boolean("skip_daemon_check")
	var err error
	o.Guard.MaxPercent, err = in.Int("max_percent", 0)
	errs = append(errs, err)
	o.Guard.AllowedNamespaces, err = stringList(op, "allowed_namespaces")
	errs = append(errs, err)
	ports, err := stringList(op, "allowed_ports")
	errs = append(errs, err)
	for _, p := range ports {
		var n int
		if _, perr := fmt.Sscan(p, &n); perr != nil {
			errs = append(errs, fmt.Errorf("input allowed_ports: %q is not a port", p))
		}
		o.Guard.AllowedPorts = append(o.Guard.AllowedPorts, n)
	}
	o.Guard.SafetyLever = in.String("safety_lever", "")
	if err := errors.Join(errs...); err != nil {
		return o, err
	}
	if o.Owner, err = owner(ctx, op); err != nil {
		return o, err
	}
	o.OnIntent = func(name string) error { return op.SetPropNow(ctx, "chaos_current", name) }
	return o, nil
}

// A cancelled run's cleanup waits as long as any other (issue #15): the
// delete and up to delete_timeout for the object to be gone, and with
// force_cleanup the two forced waits (chaos.CleanupBudget). Cloudify
// orphans the process on a cancel, even with --kill, and a SIGTERM gives it
// time (spec 5), so the runtime waits for that cleanup (Handler.CancelGrace)
// instead of its default 20 s. The object is then gone (exit 143) or
// reported with its finalizer and the next step, chaos_actions.reap with
// force_cleanup (exit 8).
//
// cancelReportMargin is what the runtime waits beyond the cleanup: the
// report files and the Grafana annotation (at most 10 s).
const cancelReportMargin = 15 * time.Second

// chaosCancelGrace is the runtime's grace for a cancelled run: its cleanup
// and cancelReportMargin. Inputs that do not parse fail the run before
// anything is created, so their defaults serve here.
func chaosCancelGrace(in cloudify.Inputs) time.Duration {
	d, err := in.Duration("delete_timeout", chaos.DefaultDeleteTimeout)
	if err != nil {
		d = chaos.DefaultDeleteTimeout
	}
	force, _ := in.Bool("force_cleanup", false)
	return chaos.CleanupBudget(d, force) + cancelReportMargin
}

func httpObject(op *operation.Op) (*api.Object, error) {
	if m := op.Inputs.String("manifest", ""); m != "" {
		return decodeManifest(m)
	}
	in := op.Inputs
	var h chaos.HTTPOptions
	var errs []error
	h.Namespace = in.String("namespace", "default")
	if sel, ok := in.Value("selector"); ok {
		switch s := sel.(type) {
		case map[string]any:
			h.Selector = map[string]string{}
			for k, v := range s {
				h.Selector[k] = fmt.Sprint(v)
			}
		default:
			var err error
			h.Selector, err = chaos.ParseSelector(fmt.Sprint(s))
			errs = append(errs, err)
		}
	} else {
		h.Selector = map[string]string{"app": "python-prometheus"}
	}
	h.Mode, h.Value, h.Target = in.String("mode", "one"), in.String("value", ""), in.String("target", "Request")
	h.Path, h.Method = in.String("path", "/"), in.String("method", "")
	var err error
	h.Port, err = in.Int("port", 8080)
	errs = append(errs, err)
	h.Code, err = in.Int("code", 0)
	errs = append(errs, err)
	h.Abort, err = in.Bool("abort", true)
	errs = append(errs, err)
	h.Delay, err = in.Duration("delay", 0)
	errs = append(errs, err)
	h.Duration, err = in.Duration("duration", chaos.DefaultDuration)
	errs = append(errs, err)
	if _, err := in.Decode("replace", &h.Replace); err != nil {
		errs = append(errs, err)
	}
	if _, err := in.Decode("patch", &h.Patch); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return chaos.HTTPObject(h)
}

func decodeManifest(m string) (*api.Object, error) {
	obj, err := api.DecodeStrict([]byte(m))
	if err != nil {
		return nil, fmt.Errorf("input manifest: %w", err)
	}
	return obj, nil
}

func runHTTPChaos(ctx context.Context, op *operation.Op) error {
	obj, err := httpObject(op)
	if err != nil {
		return err
	}
	return runChaos(ctx, op, obj)
}

func runChaosManifest(ctx context.Context, op *operation.Op) error {
	m := op.Inputs.String("manifest", "")
	if m == "" {
		return fmt.Errorf("input manifest: not set; give the YAML of a chaos object")
	}
	obj, err := decodeManifest(m)
	if err != nil {
		return err
	}
	return runChaos(ctx, op, obj)
}

// runChaos is the shared adapter: inputs → RunOptions and probes →
// experiment.Run → runtime properties, report, verdict and outcome.
func runChaos(ctx context.Context, op *operation.Op, obj *api.Object) error {
	o, err := runOptions(ctx, op, obj)
	if err != nil {
		return err
	}
	failOn, err := stringList(op, "fail_on")
	if err != nil {
		return err
	}
	x, err := experimentOptions(ctx, op, o)
	if err != nil {
		return err
	}
	c, err := connect(ctx, op)
	if err != nil {
		return err
	}
	out, runErr := experiment.Run(ctx, chaos.NewRunner(c, op.Log), x)
	if out == nil {
		return runErr
	}
	res := out.Result
	if res.Cleanup != nil && res.Cleanup.Outcome == chaos.CleanupIncomplete {
		// The object is still there: keep its name for reap.
		op.Log.Error(fmt.Sprintf("%s: cleanup incomplete, held by finalizers %v; next: %s", res.Ref, res.Cleanup.Finalizers, res.Cleanup.Next))
	} else {
		op.SetProp("chaos_current", "")
	}
	logCleanup(op, res.Ref, res.Cleanup)
	summary := out.Summary
	op.SetProp("chaos_last_run", summary)
	op.SetProp("chaos_verdict", string(res.Verdict))
	op.Return(summary)
	op.Log.Info(fmt.Sprintf("%s: verdict %s%s", res.Ref, res.Verdict, reasonSuffix(res.Reason)))
	if res.Verdict == chaos.VerdictCancelled {
		// The runtime reports cancellation, never a retry: exit 143, or 8
		// when the object is still there.
		if chaos.IsCleanupIncomplete(runErr) {
			return operation.CleanupIncomplete(runErr)
		}
		return runErr
	}
	if res.Verdict == chaos.VerdictPass {
		return nil
	}
	if len(failOn) > 0 && !slices.Contains(failOn, string(res.Verdict)) {
		op.Log.Warn(fmt.Sprintf("verdict %s is not in fail_on %v: the operation succeeds", res.Verdict, failOn))
		return nil
	}
	if runErr == nil {
		runErr = errors.New(res.Reason)
	}
	return fmt.Errorf("verdict %s: %w", res.Verdict, runErr)
}

// experimentOptions reads the probe, report and Grafana inputs.
func experimentOptions(ctx context.Context, op *operation.Op, o chaos.RunOptions) (experiment.Options, error) {
	in := op.Inputs
	x := experiment.Options{Run: o, Log: op.Log, DashboardUID: in.String("grafana_dashboard_uid", "")}
	x.Grafana.URL, x.Grafana.Token, x.Grafana.CAFile = in.String("grafana_url", ""), in.String("grafana_token", ""), in.String("grafana_ca_cert", "")
	p := experiment.ProbeSettings{
		URL: in.String("probe_url", ""), Method: in.String("probe_method", "GET"), Expect: in.String("probe_expect", "deviate"),
		PromQL: in.String("promql", ""), Comparator: in.String("promql_comparator", ">="), PromExpect: in.String("promql_expect", "must_hold"),
		PrometheusURL: in.String("prometheus_url", ""), PrometheusToken: in.String("prometheus_token", ""), PrometheusCA: in.String("prometheus_ca_cert", ""),
	}
	var errs []error
	float := func(name string, def float64) float64 {
		f, err := floatInput(op, name, def)
		errs = append(errs, err)
		return f
	}
	p.RPS, p.MinSuccess, p.Threshold = float("probe_rps", 5), float("probe_min_success", 0.95), float("promql_threshold", 0)
	var err error
	p.Window, err = in.Duration("probe_window", 10*time.Second)
	errs = append(errs, err)
	p.Interval, err = in.Duration("probe_interval", probe.DefaultInterval)
	errs = append(errs, err)
	x.Settle, err = in.Duration("settle", 30*time.Second)
	errs = append(errs, err)
	if v, ok := in.Raw("probes"); ok {
		p.Extra, err = experiment.ParseProbes([]byte(v))
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return x, err
	}
	x.Probes = p.Specs()
	if x.ReportDir = in.String("report_dir", ""); x.ReportDir == "" {
		root, err := deploymentDir(ctx, op)
		if err != nil {
			return x, err
		}
		x.ReportDir = filepath.Join(root, "reports", chaos.ObjectName(o.Object, o.Owner.RunID))
	}
	return x, nil
}

// floatInput reads a number input.
func floatInput(op *operation.Op, name string, def float64) (float64, error) {
	v := op.Inputs.String(name, "")
	if v == "" {
		return def, nil
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil {
		return 0, fmt.Errorf("input %s: %q is not a number", name, v)
	}
	return f, nil
}

func reasonSuffix(r string) string {
	if r == "" {
		return ""
	}
	return ": " + r
}

// logCleanup puts a forced or incomplete cleanup in the event log: what
// was removed by hand, what a person must check.
func logCleanup(op *operation.Op, ref string, cl *chaos.Cleanup) {
	if cl == nil || cl.Outcome == chaos.CleanupComplete {
		return
	}
	for _, r := range cl.RemovedByHand {
		op.Log.Warn(fmt.Sprintf("%s: cleanup %s: removed by hand: %s", ref, cl.Outcome, r))
	}
	for _, r := range cl.Check {
		op.Log.Warn(fmt.Sprintf("%s: cleanup %s: check: %s", ref, cl.Outcome, r))
	}
}

func selection(ctx context.Context, op *operation.Op, all bool) (chaos.Selection, error) {
	s := chaos.Selection{Namespace: op.Inputs.String("namespace", ""), RunID: op.Inputs.String("run_id", "")}
	if !all {
		dep, err := op.Ctx.DeploymentID(ctx)
		if err != nil {
			return s, err
		}
		s.Deployment = dep
	}
	return s, nil
}

func statusProps(objs []chaos.ObjectStatus) []any {
	out := make([]any, 0, len(objs))
	for _, o := range objs {
		recs := make([]any, 0, len(o.Records))
		for _, r := range o.Records {
			recs = append(recs, map[string]any{"id": r.Id, "phase": string(r.Phase)})
		}
		conds := map[string]any{}
		for k, v := range o.Conditions {
			conds[k] = v
		}
		out = append(out, map[string]any{"ref": o.Ref, "run": o.Run, "conditions": conds, "desired_phase": o.Phase, "records": recs, "deleting": o.Deleting})
	}
	return out
}

// selectedRunner reads the selection inputs and connects.
func selectedRunner(ctx context.Context, op *operation.Op, all bool) (*chaos.Runner, chaos.Selection, error) {
	s, err := selection(ctx, op, all)
	if err != nil {
		return nil, s, err
	}
	c, err := connect(ctx, op)
	if err != nil {
		return nil, s, err
	}
	return chaos.NewRunner(c, op.Log), s, nil
}

func pauseChaos(paused bool) func(context.Context, *operation.Op) error {
	return func(ctx context.Context, op *operation.Op) error {
		r, s, err := selectedRunner(ctx, op, false)
		if err != nil {
			return err
		}
		objs, err := r.SetPaused(ctx, s, paused)
		op.SetProp("chaos_status", statusProps(objs))
		return err
	}
}

func chaosStatus(ctx context.Context, op *operation.Op) error {
	r, s, err := selectedRunner(ctx, op, false)
	if err != nil {
		return err
	}
	objs, err := r.List(ctx, s)
	if err != nil {
		return err
	}
	for _, o := range objs {
		var conds []string
		for _, t := range api.ConditionTypes {
			conds = append(conds, fmt.Sprintf("%s=%s", t, o.Conditions[string(t)]))
		}
		op.Log.Info(fmt.Sprintf("%s: %s, %d records", o.Ref, strings.Join(conds, " "), len(o.Records)))
	}
	if len(objs) == 0 {
		op.Log.Info("no chaos object of this deployment exists")
	}
	props := statusProps(objs)
	op.SetProp("chaos_status", props)
	op.Return(map[string]any{"objects": props})
	return nil
}

func reapChaos(all bool) func(context.Context, *operation.Op) error {
	return func(ctx context.Context, op *operation.Op) error {
		force, err := op.Inputs.Bool("force_cleanup", false)
		if err != nil {
			return err
		}
		deleteTimeout, err := op.Inputs.Duration("delete_timeout", chaos.DefaultDeleteTimeout)
		if err != nil {
			return err
		}
		r, s, err := selectedRunner(ctx, op, all)
		if err != nil {
			return err
		}
		objs, err := r.Reap(ctx, s, chaos.RunOptions{DeleteTimeout: deleteTimeout, ForceCleanup: force})
		refs := make([]any, 0, len(objs))
		cleanups := map[string]any{}
		for _, o := range objs {
			refs = append(refs, o.Ref)
			logCleanup(op, o.Ref, o.Cleanup)
			cleanups[o.Ref] = report.CleanupSummary(o.Cleanup)
		}
		op.Log.Info(fmt.Sprintf("reaped %s", countNoun(len(objs), "chaos object")))
		op.SetProp("chaos_reap_cleanup", cleanups)
		op.SetProp("chaos_reaped", refs)
		op.SetProp("chaos_current", "")
		return err
	}
}

func preflightChaos(ctx context.Context, op *operation.Op) error {
	obj, err := httpObject(op)
	if err != nil {
		return err
	}
	o, err := runOptions(ctx, op, obj)
	if err != nil {
		return err
	}
	c, err := connect(ctx, op)
	if err != nil {
		return err
	}
	rep, err := chaos.NewRunner(c, op.Log).Preflight(ctx, o)
	if rep != nil {
		op.SetProp("chaos_preflight", map[string]any{"ok": err == nil, "target_pods": len(rep.TargetPods), "controller": rep.Controller, "namespace_filter": rep.NamespaceFilter,
			"namespace_filter_source": rep.NamespaceFilterSource, "warnings": anyList(rep.Warnings)})
		for _, w := range rep.Warnings {
			op.Log.Warn("preflight: " + w)
		}
	}
	if err != nil {
		return fmt.Errorf("preflight failed: %w", err)
	}
	op.Log.Info(fmt.Sprintf("preflight passed: %d target pods, controller %s", len(rep.TargetPods), rep.Controller))
	return nil
}

func countNoun(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

func anyList(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

func dashboardToken(ctx context.Context, op *operation.Op) error {
	ttl, err := op.Inputs.Duration("ttl", time.Hour)
	if err != nil {
		return err
	}
	c, err := connect(ctx, op)
	if err != nil {
		return err
	}
	tok, err := chaos.NewRunner(c, op.Log).DashboardToken(ctx, chaos.TokenOptions{
		Namespace: op.Inputs.String("namespace", "default"), Role: chaos.DashboardRole(op.Inputs.String("role", "viewer")), TTL: ttl,
	})
	if err != nil {
		return err
	}
	// The capability dashboard_rbac_token_secret reads this property; it is
	// the one place a secret is stored on purpose (marked sensitive), and it
	// never reaches a log line.
	op.SetSecretProp("dashboard_token", map[string]any{
		"value": tok.Value, "sensitive": true, "service_account": tok.ServiceAccount, "namespace": tok.Namespace,
		"role": tok.Role, "expires_at": tok.ExpiresAt.UTC().Format(time.RFC3339),
	})
	op.Redactor.Add(tok.Value)
	return nil
}
