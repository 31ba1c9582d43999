package commands

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/urfave/cli/v2"
	"k8s.io/client-go/rest"

	"github.com/cloudify-chaos/chaosops/plugin/helm"
	"github.com/cloudify-chaos/chaosops/plugin/kube"
	"github.com/cloudify-chaos/chaosops/plugin/redact"
)

func helmCommand() *cli.Command {
	ns := &cli.StringFlag{Name: "namespace", Aliases: []string{"n"}, Usage: "namespace of the release (default: the kubeconfig context's, else default)"}
	return &cli.Command{
		Name:  "helm",
		Usage: "install, upgrade, uninstall and inspect Helm releases with the Helm Go SDK (no helm binary)",
		Subcommands: []*cli.Command{
			{
				Name:      "install",
				Usage:     "install CHART as RELEASE, upgrade it when the chart or values changed, or change nothing",
				ArgsUsage: "RELEASE CHART",
				Description: "CHART is a chart folder, a .tgz, an https URL of a .tgz (with --sha256), or with --repo URL the chart's\n" +
					"name in that Helm repository (with --version, as helm install --repo URL NAME --version V).\n" +
					"Steps: read the values (--values files in order, then --set); read the chart (a URL is downloaded once and\n" +
					"cached by its sha256, checked before reading; with --repo, index.yaml is read and the archive must match the\n" +
					"digest it lists; downloads are retried on network errors, 429 and 5xx); recover a release a killed run left\n" +
					"pending (rolled back, or uninstalled when it never deployed); on install, create the chart's missing CRDs\n" +
					"(existing ones are left as they are unless --force-conflicts; none with --skip-crds); install, upgrade, or\n" +
					"report it up to date; with --wait, wait for every resource. Prints the release status as JSON. Ctrl-C stops\n" +
					"a download or the wait: the revision is marked failed and the next run upgrades it.",
				Flags: append(connFlags(), ns,
					&cli.StringSliceFlag{Name: "values", Aliases: []string{"f"}, Usage: "YAML values file (repeatable; later ones override)"},
					&cli.StringSliceFlag{Name: "set", Usage: "value as helm --set takes it: a.b=c, list={x,y} (repeatable; applied after --values)"},
					&cli.StringFlag{Name: "repo", Usage: "https URL of a Helm chart repository; CHART is then the chart's name (needs --version)"},
					&cli.StringFlag{Name: "sha256", Usage: "hex SHA-256 of the .tgz (required for a URL; with --repo, must equal the index's digest)"},
					&cli.StringFlag{Name: "version", Usage: "the chart version expected (with --repo: the exact version to install)"},
					&cli.StringFlag{Name: "ca-file", Usage: "CA bundle (PEM file) trusted besides the system's roots for --repo and chart URLs"},
					&cli.BoolFlag{Name: "create-namespace", Usage: "create the namespace when missing"},
					&cli.BoolFlag{Name: "skip-crds", Usage: "create or change none of the chart's crds/ CRDs"},
					&cli.BoolFlag{Name: "force-conflicts", Usage: "take over fields other field managers own (existing CRDs, the release's objects)"},
					&cli.BoolFlag{Name: "wait", Usage: "wait until every resource is ready"},
					&cli.DurationFlag{Name: "timeout", Value: helm.DefaultTimeout, Usage: "bound for each wait"},
					&cli.StringFlag{Name: "cache-dir", Value: helm.DefaultCacheDir(), Usage: "where downloaded charts are kept by sha256"},
				),
				Action: func(c *cli.Context) error {
					if c.NArg() != 2 {
						return usagef("give RELEASE and CHART, e.g. chaosops helm install chaos-mesh ./chaos-mesh-2.7.2.tgz")
					}
					values, err := helm.MergeValues(c.StringSlice("values"), nil, unsplit(c.StringSlice("set")))
					if err != nil {
						return usageError{err}
					}
					r := helm.Release{
						Name: c.Args().Get(0), Chart: c.Args().Get(1), ChartRepo: c.String("repo"), ChartSHA256: c.String("sha256"),
						Version: c.String("version"), CACert: c.String("ca-file"), Values: values, CreateNamespace: c.Bool("create-namespace"),
						SkipCRDs: c.Bool("skip-crds"), ForceConflicts: c.Bool("force-conflicts"), Wait: c.Bool("wait"), Timeout: c.Duration("timeout"),
						CacheDir: c.String("cache-dir"), Namespace: c.String("namespace"),
					}
					if err := r.Check(); err != nil {
						return usageError{errors.New(helmFlagNames.Replace(err.Error()))}
					}
					cl, log, err := helmConnect(c)
					if err != nil {
						return err
					}
					r.Namespace = releaseNamespace(c, cl)
					st, err := helm.Install(c.Context, cl.RESTConfig(), r, log)
					return printStatus(c, st, err)
				},
			},
			{
				Name:  "uninstall",
				Usage: "uninstall RELEASE (its objects and history; the chart's CRDs stay) and wait until its objects are gone",
				Description: "Steps: connect; uninstall the release's objects and history; with --wait (the default), wait until the objects\n" +
					"are gone (--timeout); print the last status as JSON. Ctrl-C stops the wait;\n" +
					"run it again to finish.",
				ArgsUsage: "RELEASE",
				Flags: append(connFlags(), ns,
					&cli.BoolFlag{Name: "wait", Value: true, Usage: "wait until the objects are gone"},
					&cli.DurationFlag{Name: "timeout", Value: helm.DefaultTimeout, Usage: "bound for the wait"},
				),
				Action: releaseAction(func(c *cli.Context, cfg *rest.Config, name, ns string, log *slog.Logger) (*helm.Status, error) {
					return helm.Uninstall(c.Context, cfg, name, ns, c.Bool("wait"), c.Duration("timeout"), log)
				}),
			},
			{
				Name:      "status",
				Usage:     "print the status of RELEASE's newest revision as JSON (exit 1 when it does not exist)",
				ArgsUsage: "RELEASE",
				Flags:     append(connFlags(), ns),
				Action: releaseAction(func(c *cli.Context, cfg *rest.Config, name, ns string, log *slog.Logger) (*helm.Status, error) {
					return helm.Get(c.Context, cfg, name, ns, log)
				}),
			},
		},
	}
}

// releaseAction runs fn for the one argument RELEASE on the connected
// cluster and prints the status it returns.
func releaseAction(fn func(c *cli.Context, cfg *rest.Config, name, ns string, log *slog.Logger) (*helm.Status, error)) cli.ActionFunc {
	return func(c *cli.Context) error {
		if c.NArg() != 1 {
			return usagef("give RELEASE")
		}
		if err := errors.Join(helm.CheckName(c.Args().First()), kube.CheckNamespace("namespace", c.String("namespace")), helm.CheckTimeout(c.Duration("timeout"))); err != nil {
			return usageError{err}
		}
		cl, log, err := helmConnect(c)
		if err != nil {
			return err
		}
		st, err := fn(c, cl.RESTConfig(), c.Args().First(), releaseNamespace(c, cl), log)
		return printStatus(c, st, err)
	}
}

func helmConnect(c *cli.Context) (*kube.Client, *slog.Logger, error) {
	log := cliLogger(c, &redact.Redactor{})
	cl, err := cliConnect(c, log)
	return cl, log, err
}

// releaseNamespace is --namespace, else the kubeconfig context's, else
// default.
func releaseNamespace(c *cli.Context, cl *kube.Client) string {
	switch {
	case c.String("namespace") != "":
		return c.String("namespace")
	case cl.Namespace != "":
		return cl.Namespace
	}
	return "default"
}

// printStatus prints st as JSON (also after a failure that left a
// revision) and marks bad input as a usage error.
func printStatus(c *cli.Context, st *helm.Status, err error) error {
	if st != nil {
		b, jerr := json.MarshalIndent(st, "", "  ")
		if jerr != nil {
			return errors.Join(err, jerr)
		}
		fmt.Fprintln(c.App.Writer, string(b))
	}
	return usageIfInvalid(err)
}

// helmFlagNames names in a Release's errors the flags the CLI takes for the
// fields the operation knows as inputs.
var helmFlagNames = strings.NewReplacer("chart_ca_cert", "--ca-file", "chart_sha256", "--sha256", "chart_repo", "--repo")
