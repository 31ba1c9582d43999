package operations

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/cloudify-chaos/chaosops/plugin/chaos"
	"github.com/cloudify-chaos/chaosops/plugin/chaos/api"
	"github.com/cloudify-chaos/chaosops/plugin/cloudify"
	"github.com/cloudify-chaos/chaosops/plugin/cloudify/operation"
	"github.com/cloudify-chaos/chaosops/plugin/experiment"
	"github.com/cloudify-chaos/chaosops/plugin/failure"
	"github.com/cloudify-chaos/chaosops/plugin/report"
	"github.com/cloudify-chaos/chaosops/plugin/runopts"
)

// Chaos returns the chaos_actions.* handlers.
func Chaos() []operation.Handler {
	withConn := func(sets ...runopts.Set) []operation.Input {
		return append(append([]operation.Input{}, connInputs...), specInputs(sets...)...)
	}
	httpInputs := withConn(runopts.HTTP, runopts.Run, runopts.Probe)
	sel := withConn(runopts.Selection)
	reapInputs := withConn(runopts.Selection, runopts.Reap)
	return []operation.Handler{
		{Name: "chaos_actions.run_http_chaos", Summary: "Run one HTTPChaos safely: guardrails, preflight, create, wait for injection, hold, wait for recovery, delete; report a verdict.", Inputs: httpInputs, Timeout: time.Hour, CancelGrace: chaosCancelGrace, Run: runHTTPChaos},
		{Name: "chaos_actions.run", Summary: "Run any Chaos Mesh experiment (manifest input) with the same lifecycle and guardrails.", Inputs: withConn(runopts.Manifest, runopts.Run, runopts.Probe), Timeout: time.Hour, CancelGrace: chaosCancelGrace, Run: runChaosManifest},
		{Name: "chaos_actions.pause", Summary: "Pause this deployment's running experiments (experiment.chaos-mesh.org/pause).", Inputs: sel, Run: pauseChaos(true)},
		{Name: "chaos_actions.resume", Summary: "Resume this deployment's paused experiments.", Inputs: sel, Run: pauseChaos(false)},
		{Name: "chaos_actions.status", Summary: "Record the conditions and per-target records of this deployment's experiments in runtime property chaos_status.", Inputs: sel, Run: chaosStatus},
		{Name: "chaos_actions.reap", Summary: "Delete every chaos object this deployment created (by label) and wait until gone.", Inputs: reapInputs, Run: reapChaos(false)},
		{Name: "chaos_actions.halt_all", Summary: "Delete every chaos object chaosops created in the cluster, of any deployment.", Inputs: reapInputs, Run: reapChaos(true)},
		{Name: "chaos_actions.preflight", Summary: "Check that an HTTPChaos run could start (CRDs, namespace, targets, controller, opt-in, guardrails) without creating anything.", Inputs: withConn(runopts.HTTP, runopts.Run), Run: preflightChaos},
		{Name: "chaos_actions.dashboard_token", Summary: "Mint a short-lived Chaos Dashboard token (TokenRequest) for a least-privilege viewer or manager ServiceAccount.", Inputs: withConn(runopts.Token), Run: dashboardToken},
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

// ownedRun reads the run options and adds what Cloudify knows: the owner,
// and where the object's name is recorded before it is created.
func ownedRun(ctx context.Context, op *operation.Op, obj *api.Object) (chaos.RunOptions, error) {
	o, err := runopts.ReadRun(inputSource{op.Inputs})
	if err != nil {
		return o, err
	}
	o.Object = obj
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
	h, err := runopts.ReadHTTP(inputSource{op.Inputs})
	if err != nil {
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
// refusedRun is a run the checks refused before connecting. A guardrail
// refusing well-formed inputs by policy (safety lever, allowed namespaces
// or ports) is verdict precheck_failed, as when the runner refuses it; a
// bad value is the input's error alone.
func refusedRun(op *operation.Op, err error) error {
	if !chaos.IsPrecheck(err) || failure.IsInvalid(err) {
		return err
	}
	op.SetProp("chaos_verdict", string(chaos.VerdictPrecheckFailed))
	return fmt.Errorf("verdict %s: %w", chaos.VerdictPrecheckFailed, err)
}

func runChaos(ctx context.Context, op *operation.Op, obj *api.Object) error {
	op.Redactor.Add(api.SecretValues(obj.Spec)...)
	o, err := ownedRun(ctx, op, obj)
	if err != nil {
		return err
	}
	failOn, err := runopts.ReadFailOn(inputSource{op.Inputs})
	if err != nil {
		return err
	}
	x, err := runopts.ReadExperiment(inputSource{op.Inputs}, o)
	if err != nil {
		return refusedRun(op, err)
	}
	x.Log = op.Log
	if x.ReportDir != "" && !filepath.IsAbs(x.ReportDir) {
		return failure.Invalidf("report_dir", "%s is relative: it would land in the operation's temporary working folder and be lost; give an absolute path, or leave it unset for $CHAOSOPS_WORKDIR/<deployment>/reports", x.ReportDir)
	}
	if x.ReportDir == "" {
		root, err := deploymentDir(ctx, op)
		if err != nil {
			return err
		}
		x.ReportDir = filepath.Join(root, "reports", chaos.ObjectName(o.Object, o.Owner.RunID))
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
	s, err := runopts.ReadSelection(inputSource{op.Inputs})
	if err != nil {
		return s, err
	}
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
		o, err := runopts.ReadReap(inputSource{op.Inputs})
		if err != nil {
			return err
		}
		r, s, err := selectedRunner(ctx, op, all)
		if err != nil {
			return err
		}
		objs, err := r.Reap(ctx, s, o)
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
	o, err := ownedRun(ctx, op, obj)
	if err != nil {
		return err
	}
	if _, err := runopts.ReadFailOn(inputSource{op.Inputs}); err != nil {
		return err
	}
	if err := o.Check(); err != nil {
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
	o, err := runopts.ReadToken(inputSource{op.Inputs})
	if err != nil {
		return err
	}
	c, err := connect(ctx, op)
	if err != nil {
		return err
	}
	tok, err := chaos.NewRunner(c, op.Log).DashboardToken(ctx, o)
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
