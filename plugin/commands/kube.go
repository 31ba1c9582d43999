package commands

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/cloudify-chaos/chaosops/plugin/kube"
	"github.com/cloudify-chaos/chaosops/plugin/kube/manifest"
	"github.com/cloudify-chaos/chaosops/plugin/redact"
)

func sourceFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringSliceFlag{Name: "filename", Aliases: []string{"f"}, Usage: "file, directory (read recursively in sorted order) or https URL (repeatable)"},
		&cli.StringFlag{Name: "sha256", Usage: "hex SHA-256 of a URL source (required for URLs)"},
		&cli.StringSliceFlag{Name: "values", Usage: "render sources as Go templates: k=v or @values.yaml (repeatable)"},
		&cli.StringFlag{Name: "namespace", Aliases: []string{"n"}, Usage: "namespace for namespaced objects that have none"},
	}
}

func cliSources(c *cli.Context) ([]manifest.Source, map[string]any, error) {
	var srcs []manifest.Source
	for _, f := range c.StringSlice("filename") {
		if strings.HasPrefix(f, "https://") || strings.HasPrefix(f, "http://") {
			srcs = append(srcs, manifest.Source{URL: f, SHA256: c.String("sha256")})
			continue
		}
		srcs = append(srcs, manifest.Source{Path: f})
	}
	if len(srcs) == 0 {
		return nil, nil, usagef("give at least one -f PATH|URL")
	}
	var values map[string]any
	if vs := c.StringSlice("values"); len(vs) > 0 {
		var err error
		if values, err = parseKV(vs, "values"); err != nil {
			return nil, nil, err
		}
	}
	return srcs, values, nil
}

// loadSources reads and renders the -f sources; the error names the flag.
// Bad sources exit 2 (exitCode), a failed download 1.
func loadSources(c *cli.Context, srcs []manifest.Source, values map[string]any) ([]manifest.Object, error) {
	objs, err := manifest.Load(c.Context, srcs, manifest.Options{Values: values})
	if err != nil {
		return nil, fmt.Errorf("--filename (-f) %w", err)
	}
	return objs, nil
}

func readInventory(path string) (*kube.Inventory, error) {
	if path == "" {
		return nil, nil
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return &kube.Inventory{}, nil
	}
	if err != nil {
		return nil, err
	}
	return kube.ParseInventory(b)
}

// writeInventory stores the inventory atomically.
func writeInventory(path string, inv kube.Inventory) error {
	if path == "" {
		return nil
	}
	b, err := json.MarshalIndent(inv, "", "  ")
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

func kubeCommands() []*cli.Command {
	return []*cli.Command{
		{
			Name:  "apply",
			Usage: "server-side apply manifests in tiers (Namespaces and CRDs first), prune, optionally wait for readiness",
			Description: "Steps: read and render the sources; map every kind and check namespaces (bad input fails with nothing applied);\n" +
				"apply Namespaces and CRDs, wait for new CRDs to be Established; apply the rest in parallel; prune objects of\n" +
				"--inventory that left the sources; with --wait, wait for readiness. The inventory file is written even when\n" +
				"a step fails, so nothing applied is forgotten. Ctrl-C stops between requests; re-run to converge.",
			Flags: append(append(connFlags(), sourceFlags()...),
				&cli.BoolFlag{Name: "wait", Usage: "wait until every object is ready"},
				&cli.DurationFlag{Name: "timeout", Value: kube.DefaultTimeout, Usage: "bound for each wait"},
				&cli.StringFlag{Name: "inventory", Usage: "JSON file of what was applied (read for pruning, written after)"},
				&cli.BoolFlag{Name: "prune", Value: true, Usage: "delete objects of --inventory that left the sources"},
				&cli.BoolFlag{Name: "force-conflicts", Usage: "take over fields owned by another field manager"},
				&cli.BoolFlag{Name: "dry-run", Usage: "server-side dry run"},
			),
			Action: func(c *cli.Context) error {
				if err := checkTimeout(c); err != nil {
					return err
				}
				objs, inv, m, err := loadAndConnect(c)
				if err != nil {
					return err
				}
				opts := kube.ApplyOptions{
					DefaultNamespace: c.String("namespace"), Wait: c.Bool("wait"), Timeout: c.Duration("timeout"),
					Inventory: inv, Prune: c.Bool("prune") && inv != nil, ForceConflicts: c.Bool("force-conflicts"), DryRun: c.Bool("dry-run"),
				}
				if inv != nil && !opts.DryRun {
					// Record intent before acting, so a killed apply is still deletable.
					planned, err := m.Plan(c.Context, objs, opts)
					if err != nil {
						return err
					}
					if err := writeInventory(c.String("inventory"), planned); err != nil {
						return err
					}
				}
				res, err := m.Apply(c.Context, objs, opts)
				if res != nil {
					fmt.Fprint(c.App.Writer, res.ChangeSet.String())
					if !res.DryRun {
						if werr := writeInventory(c.String("inventory"), res.Inventory); werr != nil && err == nil {
							err = werr
						}
					}
				}
				return err
			},
		},
		{
			Name:  "delete",
			Usage: "delete what --inventory lists (or the objects of -f that chaosops applied) in reverse tier order and wait until gone",
			Description: "Steps: read --inventory, or else read and render the -f sources (--sha256, --values and -n count only then);\n" +
				"delete the objects in reverse tier order (the rest first, then CRDs and Namespaces), only those chaosops applied;\n" +
				"wait until they are gone (--timeout); rewrite --inventory with what is left. Ctrl-C stops between requests and\n" +
				"leaves the inventory listing what is still there; re-run to finish.",
			Flags: append(append(connFlags(), sourceFlags()...),
				&cli.StringFlag{Name: "inventory", Usage: "JSON file written by apply"},
				&cli.DurationFlag{Name: "timeout", Value: kube.DefaultTimeout, Usage: "bound for the wait"},
				&cli.BoolFlag{Name: "dry-run", Usage: "server-side dry run"},
			),
			Action: func(c *cli.Context) error {
				if err := checkTimeout(c); err != nil {
					return err
				}
				log := cliLogger(c, &redact.Redactor{})
				opts := kube.DeleteOptions{Timeout: c.Duration("timeout"), DryRun: c.Bool("dry-run"), DefaultNamespace: c.String("namespace")}
				var err error
				if opts.Inventory, err = readInventory(c.String("inventory")); err != nil {
					return err
				}
				if opts.Inventory == nil {
					if len(c.StringSlice("filename")) == 0 {
						return usagef("give --inventory FILE or -f PATH")
					}
					srcs, values, err := cliSources(c)
					if err != nil {
						return err
					}
					if opts.Objects, err = loadSources(c, srcs, values); err != nil {
						return err
					}
				}
				cl, err := cliConnect(c, log)
				if err != nil {
					return err
				}
				res, err := kube.NewManager(cl, log).Delete(c.Context, opts)
				if res != nil {
					fmt.Fprint(c.App.Writer, res.ChangeSet.String())
					if c.String("inventory") != "" && !res.DryRun {
						if werr := writeInventory(c.String("inventory"), res.Inventory); werr != nil && err == nil {
							err = werr
						}
					}
				}
				return err
			},
		},
		{
			Name:  "diff",
			Usage: "show what apply would change (server-side dry run against the live objects; Secret values masked)",
			Description: "Steps: read and render the sources; server-side dry run of each object against the live one; print each\n" +
				"object's planned action (with --inventory also what apply would prune) and its diff.\n" +
				"Nothing is changed, so Ctrl-C has nothing to undo.",
			Flags: append(append(connFlags(), sourceFlags()...),
				&cli.StringFlag{Name: "inventory", Usage: "JSON file written by apply, to preview pruning"},
			),
			Action: func(c *cli.Context) error {
				objs, inv, m, err := loadAndConnect(c)
				if err != nil {
					return err
				}
				res, err := m.Diff(c.Context, objs, kube.DiffOptions{DefaultNamespace: c.String("namespace"), Inventory: inv, Prune: inv != nil})
				if err != nil {
					return err
				}
				for _, e := range res.Entries {
					fmt.Fprintf(c.App.Writer, "%s %s%s\n", e.Ref, e.Action, noteSuffix(e.Note))
					if e.Diff != "" {
						fmt.Fprintln(c.App.Writer, e.Diff)
					}
				}
				return nil
			},
		},
	}
}

// loadAndConnect reads the sources and the inventory file, then connects:
// the shared first steps of apply and diff.
func loadAndConnect(c *cli.Context) ([]manifest.Object, *kube.Inventory, *kube.Manager, error) {
	srcs, values, err := cliSources(c)
	if err != nil {
		return nil, nil, nil, err
	}
	log := cliLogger(c, &redact.Redactor{})
	objs, err := loadSources(c, srcs, values)
	if err != nil {
		return nil, nil, nil, err
	}
	inv, err := readInventory(c.String("inventory"))
	if err != nil {
		return nil, nil, nil, err
	}
	cl, err := cliConnect(c, log)
	if err != nil {
		return nil, nil, nil, err
	}
	return objs, inv, kube.NewManager(cl, log), nil
}

// checkTimeout refuses a negative --timeout before anything is read or
// contacted.
func checkTimeout(c *cli.Context) error {
	if d := c.Duration("timeout"); d < 0 {
		return usagef("--timeout %s: negative; use e.g. %s", d, kube.DefaultTimeout)
	}
	return nil
}

func noteSuffix(n string) string {
	if n == "" {
		return ""
	}
	return " (" + n + ")"
}
