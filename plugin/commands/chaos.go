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
	"github.com/cloudify-chaos/chaosops/plugin/kube"
	"github.com/cloudify-chaos/chaosops/plugin/redact"
)

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
		&cli.DurationFlag{Name: "injection-timeout", Value: chaos.DefaultInjectionTimeout, Usage: "wait for every target to be injected"},
		&cli.DurationFlag{Name: "recovery-timeout", Value: chaos.DefaultRecoveryTimeout, Usage: "wait for recovery after the duration"},
		&cli.BoolFlag{Name: "force-cleanup", Usage: "remove a stuck finalizer (recovery then unverified)"},
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
	}
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
		InjectionTimeout: c.Duration("injection-timeout"), RecoveryTimeout: c.Duration("recovery-timeout"),
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

// runAndReport runs one experiment and maps its verdict to the exit code.
func runAndReport(c *cli.Context, obj *api.Object) error {
	red := &redact.Redactor{}
	log := cliLogger(c, red)
	o, err := cliRunOptions(c, obj)
	if err != nil {
		return err
	}
	cl, err := cliConnect(c, log)
	if err != nil {
		return err
	}
	res, err := chaos.NewRunner(cl, log).Run(c.Context, o)
	if res == nil {
		if chaos.IsInvalid(err) {
			return usageError{err}
		}
		return err
	}
	if out := c.String("output"); out != "" {
		b, _ := json.MarshalIndent(res, "", "  ")
		if werr := os.WriteFile(out, append(b, '\n'), 0o644); werr != nil {
			return werr
		}
	}
	fmt.Fprintf(c.App.Writer, "%s: verdict %s%s\n", res.Ref, res.Verdict, reasonSuffixCLI(res.Reason))
	if res.Verdict == chaos.VerdictPass {
		return nil
	}
	if err == nil {
		err = fmt.Errorf("verdict %s", res.Verdict)
	}
	return &exitError{code: VerdictExitCodes[res.Verdict], err: err}
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
		&cli.BoolFlag{Name: "force-cleanup", Usage: "remove stuck finalizers"},
	)
	return &cli.Command{
		Name:        "chaos",
		Usage:       "run and manage Chaos Mesh experiments safely",
		Description: "Exit codes of http and run, by verdict: " + verdictTable(),
		Subcommands: []*cli.Command{
			{
				Name:  "http",
				Usage: "run one HTTPChaos: guardrails, preflight, create, wait for injection, hold, wait for recovery, delete; exit code by verdict",
				Description: "Steps: guardrails and preflight (nothing is created if they fail); create a uniquely named HTTPChaos with\n" +
					"spec.duration set; wait for Selected and AllInjected; hold; wait for AllRecovered; delete and wait until gone.\n" +
					"Ctrl-C deletes the object and waits for recovery. It exits when every object it created is gone.",
				Flags: httpFlags,
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
				Name:  "run",
				Usage: "run any Chaos Mesh experiment from a YAML spec with the same lifecycle",
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
			manageCommand("pause", "pause running experiments (experiment.chaos-mesh.org/pause)", sel, func(ctx context.Context, r *chaos.Runner, s chaos.Selection, _ bool) ([]chaos.ObjectStatus, error) {
				return r.SetPaused(ctx, s, true)
			}),
			manageCommand("resume", "resume paused experiments", sel, func(ctx context.Context, r *chaos.Runner, s chaos.Selection, _ bool) ([]chaos.ObjectStatus, error) {
				return r.SetPaused(ctx, s, false)
			}),
			manageCommand("status", "print conditions and per-target records as JSON", sel, func(ctx context.Context, r *chaos.Runner, s chaos.Selection, _ bool) ([]chaos.ObjectStatus, error) {
				return r.List(ctx, s)
			}),
			manageCommand("reap", "delete the chaos objects of --deployment (default cli) and wait until gone", sel, func(ctx context.Context, r *chaos.Runner, s chaos.Selection, force bool) ([]chaos.ObjectStatus, error) {
				return r.Reap(ctx, s, chaos.RunOptions{ForceCleanup: force})
			}),
			manageCommand("halt-all", "delete every chaos object chaosops created in the cluster", sel, func(ctx context.Context, r *chaos.Runner, s chaos.Selection, force bool) ([]chaos.ObjectStatus, error) {
				s.Deployment = ""
				return r.Reap(ctx, s, chaos.RunOptions{ForceCleanup: force})
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

func manageCommand(name, usage string, flags []cli.Flag, do func(context.Context, *chaos.Runner, chaos.Selection, bool) ([]chaos.ObjectStatus, error)) *cli.Command {
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
			objs, err := do(c.Context, chaos.NewRunner(cl, log), s, c.Bool("force-cleanup"))
			b, _ := json.MarshalIndent(objs, "", "  ")
			fmt.Fprintln(c.App.Writer, string(b))
			return err
		},
	}
}

// verdictTable renders the exit-code table for help text.
func verdictTable() string {
	var b strings.Builder
	for _, v := range chaos.Verdicts {
		b.WriteString(v.String() + "=" + strconv.Itoa(VerdictExitCodes[v]) + " ")
	}
	return b.String()
}
