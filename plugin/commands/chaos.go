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

	"github.com/urfave/cli/v2"

	"github.com/cloudify-chaos/chaosops/plugin/chaos"
	"github.com/cloudify-chaos/chaosops/plugin/chaos/api"
	"github.com/cloudify-chaos/chaosops/plugin/experiment"
	"github.com/cloudify-chaos/chaosops/plugin/failure"
	"github.com/cloudify-chaos/chaosops/plugin/kube"
	"github.com/cloudify-chaos/chaosops/plugin/redact"
	"github.com/cloudify-chaos/chaosops/plugin/report"
	"github.com/cloudify-chaos/chaosops/plugin/runopts"
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

// runAndReport runs one experiment with its probes, writes its report and
// maps its verdict to the exit code.
func runAndReport(c *cli.Context, obj *api.Object) error {
	red := &redact.Redactor{}
	log := cliLogger(c, red)
	src := flagSource{c}
	o, err := runopts.ReadRun(src)
	if err != nil {
		return err
	}
	o.Object, o.Owner.RunID = obj, chaos.NewRunID()
	src.redactSensitive(red, runopts.Probe)
	red.Add(api.SecretValues(obj.Spec)...)
	x, err := runopts.ReadExperiment(src, o)
	if err != nil {
		return refused(err)
	}
	x.Log = log
	if x.ReportDir == "" {
		x.ReportDir = filepath.Join(defaultReportRoot(), chaos.ObjectName(o.Object, o.Owner.RunID))
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
		// 0600 like the journal: the result quotes the spec and errors.
		if werr := os.WriteFile(path, append(b, '\n'), 0o600); werr != nil {
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

// refused is the error of a run the checks refused before connecting: a
// guardrail refusing a well-formed run by policy (the safety lever, a
// namespace or port not allowed) exits with precheck_failed's code, any
// bad value is a usage error.
func refused(err error) error {
	if chaos.IsPrecheck(err) && !failure.IsInvalid(err) {
		return &exitError{code: VerdictExitCodes[chaos.VerdictPrecheckFailed], err: err}
	}
	return usageIfInvalid(err)
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
	sel := append(connFlags(), specFlags(runopts.Selection)...)
	reapFlags := append(connFlags(), specFlags(runopts.Selection, runopts.Reap)...)
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
				Flags:       append(connFlags(), specFlags(runopts.Run, runopts.Probe, runopts.HTTP)...),
				Action: func(c *cli.Context) error {
					h, err := runopts.ReadHTTP(flagSource{c})
					if err != nil {
						return err
					}
					obj, err := chaos.HTTPObject(h)
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
				Flags:       append(connFlags(), specFlags(runopts.Run, runopts.Probe, runopts.Manifest)...),
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
			described(manageCommand("pause", "pause running experiments (experiment.chaos-mesh.org/pause)", sel, func(ctx context.Context, r *chaos.Runner, s chaos.Selection, _ chaos.RunOptions) ([]chaos.ObjectStatus, error) {
				return r.SetPaused(ctx, s, true)
			}), "Steps: connect; find the chaos objects chaosops created that match -n, --deployment and --run (none is a failure);\n"+
				"set the pause annotation on each; print them as JSON. Ctrl-C stops between objects; resume undoes a pause."),
			described(manageCommand("resume", "resume paused experiments", sel, func(ctx context.Context, r *chaos.Runner, s chaos.Selection, _ chaos.RunOptions) ([]chaos.ObjectStatus, error) {
				return r.SetPaused(ctx, s, false)
			}), "Steps: connect; find the chaos objects chaosops created that match -n, --deployment and --run (none is a failure);\n"+
				"remove the pause annotation from each; print them as JSON. Ctrl-C stops between objects."),
			described(manageCommand("status", "print conditions and per-target records as JSON", sel, func(ctx context.Context, r *chaos.Runner, s chaos.Selection, _ chaos.RunOptions) ([]chaos.ObjectStatus, error) {
				return r.List(ctx, s)
			}), "Finds the chaos objects chaosops created that match -n, --deployment and --run and prints their conditions and\n"+
				"records. Nothing is changed."),
			described(manageCommand("reap", "delete the chaos objects of --deployment (default cli) and wait until gone (--delete-timeout each); with --force-cleanup also remove stuck finalizers and the runs' Pod*Chaos entries; exit 8 if one is left", reapFlags, func(ctx context.Context, r *chaos.Runner, s chaos.Selection, o chaos.RunOptions) ([]chaos.ObjectStatus, error) {
				return r.Reap(ctx, s, o)
			}), reapDescription),
			// halt-all matches every deployment: --deployment would do nothing.
			described(manageCommand("halt-all", "delete every chaos object chaosops created in the cluster, as reap does; exit 8 if one is left", withoutFlag(reapFlags, "deployment"), func(ctx context.Context, r *chaos.Runner, s chaos.Selection, o chaos.RunOptions) ([]chaos.ObjectStatus, error) {
				s.Deployment = ""
				return r.Reap(ctx, s, o)
			}), reapDescription),
			{
				Name:  "dashboard-token",
				Usage: "mint a short-lived Chaos Dashboard token for a least-privilege ServiceAccount; prints the token on stdout",
				Description: "Steps: connect; ensure a ServiceAccount, Role and RoleBinding chaosops-dashboard-<role> in -n (server-side\n" +
					"apply, so re-running changes nothing); mint a token of --ttl with the TokenRequest API; print it on stdout\n" +
					"(nothing is written to disk). Ctrl-C stops between requests; what was applied stays, for the next run.",
				Flags: append(connFlags(), specFlags(runopts.Token)...),
				Action: func(c *cli.Context) error {
					o, err := runopts.ReadToken(flagSource{c})
					if err != nil {
						return usageIfInvalid(err)
					}
					red := &redact.Redactor{}
					log := cliLogger(c, red)
					cl, err := cliConnect(c, log)
					if err != nil {
						return err
					}
					tok, err := chaos.NewRunner(cl, log).DashboardToken(c.Context, o)
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
			src := flagSource{c}
			o, err := runopts.ReadReap(src)
			if err != nil {
				return err
			}
			s, err := runopts.ReadSelection(src)
			if err != nil {
				return usageIfInvalid(err)
			}
			red := &redact.Redactor{}
			log := cliLogger(c, red)
			cl, err := cliConnect(c, log)
			if err != nil {
				return err
			}
			objs, err := do(c.Context, chaos.NewRunner(cl, log), s, o)
			b, _ := json.MarshalIndent(objs, "", "  ")
			fmt.Fprintln(c.App.Writer, string(b))
			if chaos.IsCleanupIncomplete(err) {
				return &exitError{code: ExitCleanupIncomplete, err: err}
			}
			return err
		},
	}
}

// reapDescription is the help of reap and halt-all.
const reapDescription = "Steps: connect; find the chaos objects chaosops created that match the flags (nothing to delete is success);\n" +
	"delete each and wait until it is gone (--delete-timeout each); with --force-cleanup remove a stuck finalizer and\n" +
	"the run's entries in the targets' Pod*Chaos objects; print the objects as JSON. An object left behind exits 8,\n" +
	"naming its finalizer. Ctrl-C stops the waits: deletions already requested go on; run it again to finish."

// described sets c's description: its steps and what Ctrl-C undoes.
func described(c *cli.Command, description string) *cli.Command {
	c.Description = description
	return c
}

// withoutFlag returns flags without the one named name.
func withoutFlag(flags []cli.Flag, name string) []cli.Flag {
	var out []cli.Flag
	for _, f := range flags {
		if f.Names()[0] != name {
			out = append(out, f)
		}
	}
	return out
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
