package commands

import (
	"fmt"
	"os"

	"github.com/urfave/cli/v2"

	"github.com/cloudify-chaos/chaosops/plugin/blueprint"
	"github.com/cloudify-chaos/chaosops/plugin/cloudify/operation"
	"github.com/cloudify-chaos/chaosops/plugin/launcher"
	"github.com/cloudify-chaos/chaosops/plugin/operations"
)

func blueprintCommand() *cli.Command {
	return &cli.Command{
		Name:  "blueprint",
		Usage: "work with blueprint folders: lint them, render the launcher",
		Subcommands: []*cli.Command{
			{
				Name:    "lint",
				Aliases: []string{"check"},
				Usage:   "check blueprint folders for what breaks at upload or run time; one line per problem, file:line: message",
				Description: "Reads each blueprint as the local runner does (YAML, imports, types, intrinsic functions), then\n" +
					"checks it as part of the bundle: DSL version cloudify_dsl_1_4 or 1_5; every operation that runs\n" +
					"bin/chaosops.sh names an operation this executable registers and gives it only inputs it reads;\n" +
					"every file or folder such an input names is in the archive (the folder, bundle.files, bin/);\n" +
					"execute_operation workflows declare the parameters it takes and no other; get_capability and\n" +
					"get_environment_capability name capabilities the blueprints next to this one export.\n" +
					"Problems exit 1; warnings (likely mistakes that do not break) do not.",
				ArgsUsage: "DIR... (blueprint folders or main YAML files)",
				Flags: []cli.Flag{
					&cli.BoolFlag{Name: "archive", Usage: "the folders are unpacked archives: every file must be present (bin/ and bundle.files are not added)"},
				},
				Action: func(c *cli.Context) error {
					if c.NArg() == 0 {
						return usagef("blueprint lint needs at least one DIR argument")
					}
					results, err := blueprint.LintDirs(c.Context, c.Args().Slice(), blueprint.LintOptions{Catalog: lintCatalog(), Archive: c.Bool("archive")})
					if err != nil {
						return err
					}
					problems, failed := 0, 0
					for _, r := range results {
						for _, w := range r.Warnings {
							fmt.Fprintf(c.App.ErrWriter, "%s: warning: %s\n", w.Pos, w.Msg)
						}
						for _, p := range r.Problems {
							fmt.Fprintln(c.App.ErrWriter, p)
						}
						if len(r.Problems) > 0 {
							problems += len(r.Problems)
							failed++
							continue
						}
						bp := r.Blueprint
						fmt.Fprintf(c.App.Writer, "%s: %s, %s, %s, %s: ok\n", r.MainFile, bp.DSLVersion,
							plural(len(bp.Nodes), "node"), plural(len(bp.Workflows), "workflow"), plural(len(r.Warnings), "warning"))
					}
					if problems > 0 {
						return &exitError{code: ExitError, err: fmt.Errorf("blueprint lint: %s in %d of %d blueprints", plural(problems, "problem"), failed, len(results))}
					}
					return nil
				},
			},
			{
				Name:  "launcher",
				Usage: "write the launcher (bin/chaosops.sh) for an executable: it caches the executable by sha256 and fetches it with ctx download-resource only on a miss",
				Description: "Steps: hash --executable; render the launcher for --resource with that sha256; write it to --output (mode 0755)\n" +
					"and print the sum. Nothing else is changed.",
				Flags: []cli.Flag{
					&cli.StringFlag{Name: "executable", Value: launcher.ExecutablePath, Usage: "the chaosops executable to bundle"},
					&cli.StringFlag{Name: "resource", Value: launcher.ExecutablePath, Usage: "its path inside the blueprint folder"},
					&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Value: launcher.LauncherPath, Usage: "where to write the launcher"},
				},
				Action: func(c *cli.Context) error {
					sum, err := launcher.FileSHA256(c.String("executable"))
					if err != nil {
						return err
					}
					script, err := launcher.Render(sum, c.String("resource"))
					if err != nil {
						return usageError{err}
					}
					if err := os.WriteFile(c.String("output"), script, 0o755); err != nil {
						return err
					}
					fmt.Fprintf(c.App.Writer, "%s: launcher for %s (sha256 %s)\n", c.String("output"), c.String("resource"), sum)
					return nil
				},
			},
		},
	}
}

// lintCatalog describes this executable for blueprint lint: every
// registered operation with the inputs it reads, plus the two every
// operation reads (operation.Execute), and which inputs name archive paths.
func lintCatalog() blueprint.Catalog {
	cat := blueprint.Catalog{
		Implementations: launcher.BundledFiles,
		OperationInput:  operation.OperationInput,
		Operations:      map[string]blueprint.OperationSpec{},
	}
	for _, h := range operations.Registry().Handlers() {
		spec := blueprint.OperationSpec{
			Inputs:    []string{operation.OperationInput, "chaosops_timeout"},
			Defaults:  map[string]string{},
			Resources: map[string]blueprint.Resource{},
		}
		for _, in := range h.Inputs {
			spec.Inputs = append(spec.Inputs, in.Name)
			if in.Default != "" {
				spec.Defaults[in.Name] = in.Default
			}
			if r, ok := archiveInputs[in.Name]; ok {
				spec.Resources[in.Name] = r
			}
			if in.Name == "chart_repo" {
				// With a chart repository, chart is the chart's name.
				spec.NameWith = map[string]string{"chart": "chart_repo"}
			}
		}
		cat.Operations[h.Name] = spec
	}
	return cat
}

// archiveInputs are the operation inputs whose values are paths inside
// the blueprint archive (fetched with download-resource).
var archiveInputs = map[string]blueprint.Resource{
	"files":  blueprint.ResourceFiles,           // kubernetes.apply
	"module": blueprint.ResourceTerraformModule, // terraform.*
	"chart":  blueprint.ResourcePath,            // helm.install: a chart folder or .tgz
}

// plural returns "1 problem", "2 problems".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
