package commands

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/cloudify-chaos/chaosops/plugin/chaos"
	"github.com/cloudify-chaos/chaosops/plugin/chaos/api"
	"github.com/cloudify-chaos/chaosops/plugin/experiment"
	"github.com/cloudify-chaos/chaosops/plugin/kube"
	"github.com/cloudify-chaos/chaosops/plugin/probe"
	"github.com/cloudify-chaos/chaosops/plugin/redact"
	"github.com/cloudify-chaos/chaosops/plugin/report"
)

// ExitCleanupIncomplete is the exit code of a run, reap or halt-all that
// left a chaos object behind (held by a finalizer): it wins over the
// verdict's code, 143 for a cancel included, since the cluster is not
// clean. The message names the finalizer and the next step.
const ExitCleanupIncomplete = 8

// VerdictExitCodes maps each verdict to the CLI's exit code (README table).
var VerdictExitCodes = map[chaos.Verdict]int{
	chaos.VerdictPass:                 0,
	chaos.VerdictError:                1,
	chaos.VerdictPrecheckFailed:       3,
	chaos.VerdictInjectionFailed:      4,
	chaos.VerdictNoEffect:             5,
	chaos.VerdictSLOBreach:            6,
	chaos.VerdictRecoveredButDegraded: 7,
	chaos.VerdictCancelled:            ExitCancelled,
}

func connFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "kubeconfig", EnvVars: []string{"KUBECONFIG"}, Usage: "kubeconfig file"},
		&cli.StringFlag{Name: "context", Usage: "kubeconfig context"},
		&cli.BoolFlag{Name: "insecure-skip-tls-verify", Usage: "turn off TLS verification of the API server (logged as a warning)"},
	}
}

func cliLogger(c *cli.Context, red *redact.Redactor) *slog.Logger {
	h := slog.NewTextHandler(c.App.ErrWriter, &slog.HandlerOptions{Level: slog.LevelInfo})
	return slog.New(red.Handler(h))
}

func cliConnect(c *cli.Context, log *slog.Logger) (*kube.Client, error) {
	kc := c.String("kubeconfig")
	if kc == "" {
		home, _ := os.UserHomeDir()
		kc = filepath.Join(home, ".kube", "config")
	}
	return kube.Connect(c.Context, kube.ConnOptions{Kubeconfig: kc, Context: c.String("context"), InsecureSkipTLSVerify: c.Bool("insecure-skip-tls-verify"), Log: log})
}

func runFlags() []cli.Flag {
	return []cli.Flag{
		&cli.DurationFlag{Name: "duration", Value: chaos.DefaultDuration, Usage: "how long the fault lasts (spec.duration)"},
		&cli.DurationFlag{Name: "injection-timeout", Value: chaos.DefaultInjectionTimeout, Usage: "wait for every target to be injected (a permanent failure ends the wait at once)"},
		&cli.DurationFlag{Name: "recovery-timeout", Value: chaos.DefaultRecoveryTimeout, Usage: "after the duration, wait this long for the controller to stop the fault, then this long for recovery"},
		&cli.DurationFlag{Name: "delete-timeout", Value: chaos.DefaultDeleteTimeout, Usage: "wait for the deleted object to be gone before it counts as stuck (after Ctrl-C too)"},
		&cli.BoolFlag{Name: "force-cleanup", Usage: "remove a stuck finalizer and the run's Pod*Chaos entries (recovery then unverified)"},
		&cli.StringSliceFlag{Name: "allowed-namespace", Usage: "the only namespaces a run may target (repeatable)"},
		&cli.IntSliceFlag{Name: "allowed-port", Usage: "the only ports an HTTPChaos may target (repeatable)"},
		&cli.DurationFlag{Name: "max-duration", Value: chaos.DefaultMaxDuration, Usage: "longest duration allowed"},
		&cli.BoolFlag{Name: "allow-all-targets", Usage: "allow mode all and percentages above --max-percent"},
		&cli.IntFlag{Name: "max-percent", Value: chaos.DefaultMaxPercent, Usage: "largest percentage without --allow-all-targets"},
		&cli.StringFlag{Name: "safety-lever-file", Value: defaultLeverFile(), Usage: "file whose content \"on\" refuses new runs (CLI form of the chaos-safety-lever secret)"},
		&cli.StringFlag{Name: "chaos-namespace", Value: chaos.DefaultChaosNamespace, Usage: "namespace Chaos Mesh runs in"},
		&cli.BoolFlag{Name: "skip-daemon-check", Usage: "skip the chaos-daemon check of the preflight"},
		&cli.StringFlag{Name: "deployment", Value: "cli", Usage: "owner label of the run (reap finds runs by it)"},
		&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "write the result as JSON to this file"},
		&cli.StringFlag{Name: "probe-url", Usage: "URL the built-in load generator calls (HTTP probe), usually the faulted path"},
		&cli.StringFlag{Name: "probe-method", Value: "GET", Usage: "HTTP method of the probe's requests"},
		&cli.Float64Flag{Name: "probe-rps", Value: 5, Usage: "requests per second of the load generator (at most 200)"},
		&cli.DurationFlag{Name: "probe-window", Value: 10 * time.Second, Usage: "window of the HTTP probe's success rate"},
		&cli.DurationFlag{Name: "probe-interval", Value: probe.DefaultInterval, Usage: "how often the probes are evaluated during the injection"},
		&cli.Float64Flag{Name: "probe-min-success", Value: 0.95, Usage: "success rate (0..1) the HTTP probe needs to pass"},
		&cli.StringFlag{Name: "probe-expect", Value: "deviate", Usage: "HTTP probe during the injection: deviate or must_hold"},
		&cli.StringFlag{Name: "promql", Usage: "PromQL probe: instant query evaluated before, during and after"},
		&cli.StringFlag{Name: "promql-comparator", Value: ">=", Usage: "> >= < <= == != against --promql-threshold"},
		&cli.Float64Flag{Name: "promql-threshold", Usage: "threshold of the PromQL probe"},
		&cli.StringFlag{Name: "promql-expect", Value: "must_hold", Usage: "PromQL probe during the injection: must_hold or deviate"},
		&cli.StringFlag{Name: "prometheus-url", EnvVars: []string{"PROMETHEUS_URL"}, Usage: "Prometheus base URL for PromQL probes"},
		&cli.StringFlag{Name: "prometheus-token", EnvVars: []string{"PROMETHEUS_TOKEN"}, Usage: "bearer token for Prometheus (prefer the env var)"},
		&cli.StringFlag{Name: "prometheus-ca", Usage: "CA bundle that signed Prometheus' certificate"},
		&cli.StringFlag{Name: "probes-file", Usage: "YAML list of probe specs beside the shorthands"},
		&cli.DurationFlag{Name: "settle", Value: 30 * time.Second, Usage: "how long after recovery the after-phase probes may take to pass"},
		&cli.StringFlag{Name: "report-dir", Usage: "folder for journal.json, report.md and chart.svg (default $CHAOSOPS_REPORT_ROOT or .chaosops/reports, then the object's name)"},
		&cli.StringFlag{Name: "grafana-url", EnvVars: []string{"GRAFANA_URL"}, Usage: "Grafana base URL: the run's window is posted as an annotation"},
		&cli.StringFlag{Name: "grafana-token", EnvVars: []string{"GRAFANA_TOKEN"}, Usage: "Grafana service account token (prefer the env var)"},
		&cli.StringFlag{Name: "grafana-dashboard-uid", Usage: "dashboard of the annotation"},
		&cli.StringFlag{Name: "grafana-ca", Usage: "CA bundle that signed Grafana's certificate"},
	}
}

// cliExperiment reads the probe, report and Grafana flags. Tokens are
// registered with the redactor before anything can log them.
func cliExperiment(c *cli.Context, o chaos.RunOptions, log *slog.Logger, red *redact.Redactor) (experiment.Options, error) {
	red.Add(c.String("prometheus-token"), c.String("grafana-token"))
	p := experiment.ProbeSettings{
		URL: c.String("probe-url"), Method: c.String("probe-method"), RPS: c.Float64("probe-rps"), Window: c.Duration("probe-window"), Interval: c.Duration("probe-interval"),
		MinSuccess: c.Float64("probe-min-success"), Expect: c.String("probe-expect"),
		PromQL: c.String("promql"), Comparator: c.String("promql-comparator"), Threshold: c.Float64("promql-threshold"),
		PromExpect: c.String("promql-expect"), PrometheusURL: c.String("prometheus-url"),
		PrometheusToken: c.String("prometheus-token"), PrometheusCA: c.String("prometheus-ca"),
	}
	if f := c.String("probes-file"); f != "" {
		b, err := os.ReadFile(f)
		if err != nil {
			return experiment.Options{}, usageError{fmt.Errorf("--probes-file: %w", err)}
		}
		if p.Extra, err = experiment.ParseProbes(b); err != nil {
			return experiment.Options{}, usageError{fmt.Errorf("--probes-file %s: %w", f, err)}
		}
	}
	x := experiment.Options{Run: o, Probes: p.Specs(), Settle: c.Duration("settle"), Log: log, DashboardUID: c.String("grafana-dashboard-uid")}
	x.Grafana.URL, x.Grafana.Token, x.Grafana.CAFile = c.String("grafana-url"), c.String("grafana-token"), c.String("grafana-ca")
	if x.ReportDir = c.String("report-dir"); x.ReportDir == "" {
		x.ReportDir = filepath.Join(defaultReportRoot(), chaos.ObjectName(o.Object, o.Owner.RunID))
	}
	return x, nil
}

func defaultLeverFile() string {
	dir, err := os.UserConfigDir()
	if err != nil {
		return ""
	}
	return filepath.Join(dir, "chaosops", "chaos-safety-lever")
}

func cliRunOptions(c *cli.Context, obj *api.Object) (chaos.RunOptions, error) {
	o := chaos.RunOptions{
		Object: obj, Namespace: c.String("namespace"), Duration: c.Duration("duration"),
		InjectionTimeout: c.Duration("injection-timeout"), RecoveryTimeout: c.Duration("recovery-timeout"), DeleteTimeout: c.Duration("delete-timeout"),
		ForceCleanup: c.Bool("force-cleanup"), ChaosNamespace: c.String("chaos-namespace"), SkipDaemonCheck: c.Bool("skip-daemon-check"),
		Owner: chaos.Owner{Deployment: c.String("deployment"), RunID: chaos.NewRunID()},
		Guard: chaos.Guardrails{
			AllowedNamespaces: c.StringSlice("allowed-namespace"), AllowedPorts: c.IntSlice("allowed-port"),
			MaxDuration: c.Duration("max-duration"), AllowAllTargets: c.Bool("allow-all-targets"), MaxPercent: c.Int("max-percent"),
		},
	}
	if f := c.String("safety-lever-file"); f != "" {
		b, err := os.ReadFile(f)
		if err != nil && !os.IsNotExist(err) {
			return o, fmt.Errorf("safety lever %s: %w", f, err)
		}
		o.Guard.SafetyLever = strings.TrimSpace(string(b))
	}
	return o, nil
}

// runAndReport runs one experiment with its probes, writes its report and
// maps its verdict to the exit code.
func runAndReport(c *cli.Context, obj *api.Object) error {
	red := &redact.Redactor{}
	log := cliLogger(c, red)
	o, err := cliRunOptions(c, obj)
	if err != nil {
		return err
	}
	x, err := cliExperiment(c, o, log, red)
	if err != nil {
		return err
	}
	cl, err := cliConnect(c, log)
	if err != nil {
		return err
	}
	out, err := experiment.Run(c.Context, chaos.NewRunner(cl, log), x)
	if out == nil {
		return usageIfInvalid(err)
	}
	res := out.Result
	if path := c.String("output"); path != "" {
		b, _ := json.MarshalIndent(res, "", "  ")
		if werr := os.WriteFile(path, append(b, '\n'), 0o644); werr != nil {
			return werr
		}
	}
	fmt.Fprintf(c.App.Writer, "%s: verdict %s%s\n", res.Ref, res.Verdict, reasonSuffixCLI(res.Reason))
	printCleanup(c, res.Ref, res.Cleanup)
	if out.Files.Dir != "" {
		fmt.Fprintf(c.App.Writer, "report: %s\nchart:  %s\njournal: %s\n", out.Files.Markdown, out.Files.Chart, out.Files.Journal)
	}
	code := VerdictExitCodes[res.Verdict]
	if res.Cleanup != nil && res.Cleanup.Outcome == chaos.CleanupIncomplete {
		code = ExitCleanupIncomplete
	}
	if code == 0 {
		return nil
	}
	if err == nil {
		err = fmt.Errorf("verdict %s", res.Verdict)
	}
	return &exitError{code: code, err: err}
}

// printCleanup says how a forced or incomplete cleanup went: what was
// removed by hand, what a person must check, the next step.
func printCleanup(c *cli.Context, ref string, cl *chaos.Cleanup) {
	if cl == nil || cl.Outcome == chaos.CleanupComplete {
		return
	}
	w := c.App.Writer
	fmt.Fprintf(w, "%s: cleanup %s\n", ref, cl.Outcome)
	for _, f := range cl.Finalizers {
		fmt.Fprintf(w, "  finalizer: %s\n", f)
	}
	for _, r := range cl.Records {
		fmt.Fprintf(w, "  not recovered: %s\n", r)
	}
	for _, r := range cl.RemovedByHand {
		fmt.Fprintf(w, "  removed by hand: %s\n", r)
	}
	for _, r := range cl.Check {
		fmt.Fprintf(w, "  check: %s\n", r)
	}
	if cl.Next != "" {
		fmt.Fprintf(w, "  next: %s\n", cl.Next)
	}
}

func reasonSuffixCLI(r string) string {
	if r == "" {
		return ""
	}
	return " (" + r + ")"
}

func chaosCommand() *cli.Command {
	httpFlags := append(append(connFlags(), runFlags()...),
		&cli.StringFlag{Name: "namespace", Aliases: []string{"n"}, Value: "default", Usage: "namespace of the target pods and the chaos object"},
		&cli.StringFlag{Name: "selector", Aliases: []string{"l"}, Required: true, Usage: "labels of the target pods, e.g. app=demo"},
		&cli.StringFlag{Name: "mode", Value: "one", Usage: "one, all, fixed, fixed-percent, random-max-percent"},
		&cli.StringFlag{Name: "value", Usage: "number or percentage for the fixed and percent modes"},
		&cli.StringFlag{Name: "target", Value: "Request", Usage: "Request or Response"},
		&cli.IntFlag{Name: "port", Value: 8080, Usage: "container port the app listens on"},
		&cli.StringFlag{Name: "path", Value: "/", Usage: "URI path to match"},
		&cli.StringFlag{Name: "method", Usage: "HTTP method to match"},
		&cli.BoolFlag{Name: "abort", Usage: "abort matching requests"},
		&cli.DurationFlag{Name: "delay", Usage: "delay matching requests"},
		&cli.IntFlag{Name: "code", Usage: "response code to match (target Response)"},
	)
	sel := append(connFlags(),
		&cli.StringFlag{Name: "namespace", Aliases: []string{"n"}, Usage: "namespace to search (default: all)"},
		&cli.StringFlag{Name: "deployment", Value: "cli", Usage: "owner label to match"},
		&cli.StringFlag{Name: "run", Usage: "one run id"},
	)
	reapFlags := append(sel[:len(sel):len(sel)],
		&cli.DurationFlag{Name: "delete-timeout", Value: chaos.DefaultDeleteTimeout, Usage: "wait this long for each deleted object to be gone; then it is stuck (exit 8), or with --force-cleanup forced off"},
		&cli.BoolFlag{Name: "force-cleanup", Usage: "remove stuck finalizers and the runs' entries in Pod*Chaos objects (recovery then unverified)"},
	)
	return &cli.Command{
		Name:  "chaos",
		Usage: "run and manage Chaos Mesh experiments safely",
		Description: "Exit codes of http and run, by verdict: " + verdictTable() + "\n" +
			"cleanup incomplete (a chaos object left behind, also after Ctrl-C; for reap and halt-all too): " + strconv.Itoa(ExitCleanupIncomplete),
		Subcommands: []*cli.Command{
			{
				Name:        "http",
				Usage:       "run one HTTPChaos: guardrails, preflight, create, wait for injection, hold, wait for recovery, delete; exit code by verdict",
				Description: runDescription("HTTPChaos"),
				Flags:       httpFlags,
				Action: func(c *cli.Context) error {
					selector, err := chaos.ParseSelector(c.String("selector"))
					if err != nil {
						return usageError{err}
					}
					obj, err := chaos.HTTPObject(chaos.HTTPOptions{
						Namespace: c.String("namespace"), Selector: selector, Mode: c.String("mode"), Value: c.String("value"),
						Target: c.String("target"), Port: c.Int("port"), Path: c.String("path"), Method: c.String("method"),
						Abort: c.Bool("abort"), Delay: c.Duration("delay"), Code: c.Int("code"), Duration: c.Duration("duration"),
					})
					if err != nil {
						return usageError{err}
					}
					return runAndReport(c, obj)
				},
			},
			{
				Name:        "run",
				Usage:       "run any Chaos Mesh experiment from a YAML spec with the same lifecycle",
				Description: runDescription("chaos object"),
				Flags: append(append(connFlags(), runFlags()...),
					&cli.StringFlag{Name: "file", Aliases: []string{"f"}, Required: true, Usage: "YAML of one chaos object"},
					&cli.StringFlag{Name: "namespace", Aliases: []string{"n"}, Value: "default", Usage: "namespace when the spec has none"},
				),
				Action: func(c *cli.Context) error {
					b, err := os.ReadFile(c.String("file"))
					if err != nil {
						return usageError{err}
					}
					obj, err := api.DecodeStrict(b)
					if err != nil {
						return usageError{fmt.Errorf("%s: %w", c.String("file"), err)}
					}
					return runAndReport(c, obj)
				},
			},
			manageCommand("pause", "pause running experiments (experiment.chaos-mesh.org/pause)", sel, func(ctx context.Context, r *chaos.Runner, s chaos.Selection, _ chaos.RunOptions) ([]chaos.ObjectStatus, error) {
				return r.SetPaused(ctx, s, true)
			}),
			manageCommand("resume", "resume paused experiments", sel, func(ctx context.Context, r *chaos.Runner, s chaos.Selection, _ chaos.RunOptions) ([]chaos.ObjectStatus, error) {
				return r.SetPaused(ctx, s, false)
			}),
			manageCommand("status", "print conditions and per-target records as JSON", sel, func(ctx context.Context, r *chaos.Runner, s chaos.Selection, _ chaos.RunOptions) ([]chaos.ObjectStatus, error) {
				return r.List(ctx, s)
			}),
			manageCommand("reap", "delete the chaos objects of --deployment (default cli) and wait until gone (--delete-timeout each); with --force-cleanup also remove stuck finalizers and the runs' Pod*Chaos entries; exit 8 if one is left", reapFlags, func(ctx context.Context, r *chaos.Runner, s chaos.Selection, o chaos.RunOptions) ([]chaos.ObjectStatus, error) {
				return r.Reap(ctx, s, o)
			}),
			manageCommand("halt-all", "delete every chaos object chaosops created in the cluster, as reap does; exit 8 if one is left", reapFlags, func(ctx context.Context, r *chaos.Runner, s chaos.Selection, o chaos.RunOptions) ([]chaos.ObjectStatus, error) {
				s.Deployment = ""
				return r.Reap(ctx, s, o)
			}),
			{
				Name:  "dashboard-token",
				Usage: "mint a short-lived Chaos Dashboard token for a least-privilege ServiceAccount; prints the token on stdout",
				Flags: append(connFlags(),
					&cli.StringFlag{Name: "namespace", Aliases: []string{"n"}, Value: "default", Usage: "app namespace"},
					&cli.StringFlag{Name: "role", Value: "viewer", Usage: "viewer or manager"},
					&cli.DurationFlag{Name: "ttl", Value: time.Hour, Usage: "token lifetime (≥ 10m)"},
				),
				Action: func(c *cli.Context) error {
					red := &redact.Redactor{}
					log := cliLogger(c, red)
					cl, err := cliConnect(c, log)
					if err != nil {
						return err
					}
					tok, err := chaos.NewRunner(cl, log).DashboardToken(c.Context, chaos.TokenOptions{Namespace: c.String("namespace"), Role: chaos.DashboardRole(c.String("role")), TTL: c.Duration("ttl")})
					if err != nil {
						return err
					}
					_, err = fmt.Fprintln(c.App.Writer, tok.Value)
					return err
				},
			},
		},
	}
}

// manageCommand is a command on the runs found by label; reap and
// halt-all get their --delete-timeout and --force-cleanup in the options.
func manageCommand(name, usage string, flags []cli.Flag, do func(context.Context, *chaos.Runner, chaos.Selection, chaos.RunOptions) ([]chaos.ObjectStatus, error)) *cli.Command {
	return &cli.Command{
		Name: name, Usage: usage, Flags: flags,
		Action: func(c *cli.Context) error {
			red := &redact.Redactor{}
			log := cliLogger(c, red)
			cl, err := cliConnect(c, log)
			if err != nil {
				return err
			}
			s := chaos.Selection{Namespace: c.String("namespace"), Deployment: c.String("deployment"), RunID: c.String("run")}
			objs, err := do(c.Context, chaos.NewRunner(cl, log), s, chaos.RunOptions{DeleteTimeout: c.Duration("delete-timeout"), ForceCleanup: c.Bool("force-cleanup")})
			b, _ := json.MarshalIndent(objs, "", "  ")
			fmt.Fprintln(c.App.Writer, string(b))
			if chaos.IsCleanupIncomplete(err) {
				return &exitError{code: ExitCleanupIncomplete, err: err}
			}
			return err
		},
	}
}

// runDescription is the help of http and run: the steps in order and what
// a cancel does.
func runDescription(what string) string {
	return "Steps: guardrails and preflight (nothing is created if they fail, nor when an admission webhook denies the\n" +
		"server-side dry run: precheck_failed); create a uniquely named " + what + " with spec.duration set; wait for Selected\n" +
		"and AllInjected (a permanent failure, e.g. no chaos-daemon on the node, ends it at once: injection_failed); hold;\n" +
		"wait for the controller to stop the fault and for AllRecovered; delete and wait until gone (--delete-timeout).\n" +
		"A finalizer that does not clear is reported (exit 8, cleanup incomplete); with --force-cleanup it is forced off and\n" +
		"the run's entries are removed from the targets' Pod*Chaos objects; recovery is then unverified (a run that would\n" +
		"have passed is recovered_but_degraded, exit 7) and the output lists what was removed by hand and what to check.\n" +
		"Ctrl-C or SIGTERM deletes the object and waits for it to be gone like any cleanup (--delete-timeout, and the forced\n" +
		"steps with --force-cleanup): exit 143 once it is gone; exit 8 when it is still there, naming the finalizer and the next\n" +
		"step (chaosops chaos reap --run ID --force-cleanup)."
}

// verdictTable renders the exit-code table for help text.
func verdictTable() string {
	var b strings.Builder
	for _, v := range chaos.Verdicts {
		b.WriteString(v.String() + "=" + strconv.Itoa(VerdictExitCodes[v]) + " ")
	}
	return b.String()
}

// defaultReportRoot is where runs write their reports and where `report
// show` looks them up: $CHAOSOPS_REPORT_ROOT, else .chaosops/reports.
func defaultReportRoot() string {
	if v := os.Getenv(report.RootEnv); v != "" {
		return v
	}
	return report.DefaultRoot
}
