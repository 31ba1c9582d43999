package commands

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/cloudify-chaos/chaosops/plugin/local"
	"github.com/cloudify-chaos/chaosops/plugin/yamllimit"
)

func localCommand() *cli.Command {
	stateDir := &cli.StringFlag{Name: "state-dir", Value: ".chaosops", Usage: "where local deployments keep their state", EnvVars: []string{"CHAOSOPS_STATE_DIR"}}
	secrets := &cli.StringFlag{Name: "secrets", Usage: "YAML file of secrets (name: value, mode 0600) for get_secret; default <state-dir>/secrets.yaml; CHAOSOPS_SECRET_<name> variables win"}
	dep := &cli.StringFlag{Name: "deployment-id", Aliases: []string{"d"}, Required: true, Usage: "deployment name"}
	return &cli.Command{
		Name:  "local",
		Usage: "install, run workflows on and uninstall blueprints on this machine, with no Cloudify manager",
		Description: "Every operation runs this executable through a stand-in of Cloudify's ctx proxy, the same path a\n" +
			"manager's script plugin uses. Ctrl-C cancels the running operations (they clean up) and marks the\n" +
			"execution cancelled; install and uninstall can then be run again to converge.",
		Flags: []cli.Flag{stateDir, secrets},
		Subcommands: []*cli.Command{
			{
				Name:  "install",
				Usage: "create a deployment from a blueprint and run its install workflow (dependency order, independent nodes in parallel)",
				Description: "Steps: read the blueprint (YAML, imports, types) and check the inputs against its declarations (nothing is\n" +
					"created when they fail); create the deployment in --state-dir (or resume a failed install of it); run every\n" +
					"node's lifecycle (precreate, create, configure, start, poststart) in dependency order. Ctrl-C cancels the\n" +
					"running operations, which clean up, and marks the execution cancelled; run install again to converge.",
				ArgsUsage: "BLUEPRINT (main YAML file or its folder)",
				Flags: []cli.Flag{dep,
					&cli.StringSliceFlag{Name: "inputs", Aliases: []string{"i"}, Usage: "key=value, or @file.yaml / file.yaml with a mapping (repeatable)"},
					&cli.StringSliceFlag{Name: "label", Usage: "key=value deployment label (repeatable), e.g. csys-obj-parent=env"},
				},
				Action: func(c *cli.Context) error {
					if c.NArg() != 1 {
						return usagef("local install needs one BLUEPRINT argument")
					}
					inputs, err := parseKV(c.StringSlice("inputs"), "inputs")
					if err != nil {
						return err
					}
					labels := map[string][]string{}
					for _, l := range c.StringSlice("label") {
						k, v, ok := strings.Cut(l, "=")
						if !ok {
							return usagef("--label %q: use key=value", l)
						}
						labels[k] = append(labels[k], v)
					}
					r, err := newRunner(c)
					if err != nil {
						return err
					}
					return r.Install(c.Context, local.InstallOptions{Blueprint: c.Args().First(), Name: c.String("deployment-id"), Inputs: inputs, Labels: labels})
				},
			},
			{
				Name:  "execute",
				Usage: "run a workflow of a local deployment",
				Description: "WORKFLOW is install, uninstall, execute_operation or a blueprint workflow mapped to execute_operation.\n" +
					"Steps: check the parameters against the workflow's declarations (nothing runs when they fail); run the\n" +
					"workflow's operations. Ctrl-C cancels the running operations, which clean up, and marks the execution cancelled.",
				ArgsUsage: "WORKFLOW",
				Flags: []cli.Flag{dep,
					&cli.StringSliceFlag{Name: "parameters", Aliases: []string{"p"}, Usage: "key=value, or @params.yaml (repeatable)"},
				},
				Action: func(c *cli.Context) error {
					if c.NArg() != 1 {
						return usagef("local execute needs one WORKFLOW argument")
					}
					params, err := parseKV(c.StringSlice("parameters"), "parameters")
					if err != nil {
						return err
					}
					r, err := newRunner(c)
					if err != nil {
						return err
					}
					return r.Execute(c.Context, c.String("deployment-id"), c.Args().First(), params)
				},
			},
			{
				Name:  "outputs",
				Usage: "print a local deployment's outputs and capabilities as JSON",
				Flags: []cli.Flag{dep},
				Action: func(c *cli.Context) error {
					r, err := newRunner(c)
					if err != nil {
						return err
					}
					outs, caps, err := r.Outputs(c.String("deployment-id"))
					if err != nil {
						return err
					}
					b, _ := json.MarshalIndent(map[string]any{"outputs": outs, "capabilities": caps}, "", "  ")
					_, err = fmt.Fprintln(c.App.Writer, string(b))
					return err
				},
			},
			{
				Name:  "uninstall",
				Usage: "run the uninstall workflow (reverse dependency order) and remove the deployment",
				Description: "Steps: run every node's prestop, stop, delete and postdelete in reverse dependency order; remove the\n" +
					"deployment's state. A node that fails keeps the state, so uninstall can be run again. Ctrl-C cancels the\n" +
					"running operations, which clean up, and marks the execution cancelled; run uninstall again to converge.",
				Flags: []cli.Flag{dep},
				Action: func(c *cli.Context) error {
					r, err := newRunner(c)
					if err != nil {
						return err
					}
					return r.Uninstall(c.Context, c.String("deployment-id"))
				},
			},
			{
				Name:  "list",
				Usage: "list local deployments with their node states and last execution",
				Action: func(c *cli.Context) error {
					deps, err := local.Store{Dir: c.String("state-dir")}.List()
					if err != nil {
						return err
					}
					for _, d := range deps {
						last := "-"
						if n := len(d.Executions); n > 0 {
							e := d.Executions[n-1]
							last = e.Workflow + ":" + e.Status
						}
						fmt.Fprintf(c.App.Writer, "%-24s %-28s %d nodes  last %s\n", d.Name, d.BlueprintID, len(d.Instances), last)
					}
					return nil
				},
			},
			localScheduleCommand(),
		},
	}
}

// newRunner checks --deployment-id, when the command has it, and returns
// the runner of the state folder.
func newRunner(c *cli.Context) (*local.Runner, error) {
	if c.IsSet("deployment-id") || c.String("deployment-id") != "" {
		if err := local.CheckName(c.String("deployment-id")); err != nil {
			return nil, usagef("--deployment-id (-d): %w", err)
		}
	}
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	dir := c.String("state-dir")
	secretsFile := c.String("secrets")
	if secretsFile == "" {
		secretsFile = filepath.Join(dir, "secrets.yaml")
	}
	return &local.Runner{
		Store:      local.Store{Dir: dir},
		Secrets:    &local.Secrets{File: secretsFile},
		Executable: exe,
		Events:     c.App.ErrWriter,
	}, nil
}

// parseKV reads key=value pairs and YAML files (@file or a path) into a map.
// Values that look like YAML flow collections ([a, b], {k: v}) are parsed;
// everything else stays a string and is coerced to the declared type.
func parseKV(items []string, flag string) (map[string]any, error) {
	out := map[string]any{}
	for _, it := range unsplit(items) {
		k, v, isKV := strings.Cut(it, "=")
		if !isKV || strings.HasPrefix(it, "@") {
			path := strings.TrimPrefix(it, "@")
			b, err := yamllimit.ReadFile(path)
			var le *yamllimit.Error
			if errors.As(err, &le) {
				return nil, usagef("--%s %v", flag, err)
			}
			if err != nil {
				return nil, usagef("--%s %q: not key=value and not a readable YAML file: %v", flag, it, err)
			}
			var m map[string]any
			if err := yamllimit.Unmarshal(path, b, &m); err != nil {
				return nil, usagef("--%s %v (give a YAML mapping of name: value)", flag, err)
			}
			for mk, mv := range m {
				out[mk] = mv
			}
			continue
		}
		if k == "" {
			return nil, usagef("--%s %q: the key is empty", flag, it)
		}
		if t := strings.TrimSpace(v); strings.HasPrefix(t, "[") || strings.HasPrefix(t, "{") {
			var parsed any
			if err := yamllimit.Unmarshal(k, []byte(t), &parsed); err != nil {
				return nil, usagef("--%s %s: %q is not a valid YAML list or mapping", flag, k, v)
			}
			out[k] = parsed
			continue
		}
		out[k] = v
	}
	return out, nil
}
