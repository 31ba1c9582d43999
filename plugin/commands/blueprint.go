package commands

import (
	"fmt"
	"os"

	"github.com/urfave/cli/v2"

	"github.com/cloudify-chaos/chaosops/plugin/blueprint"
	"github.com/cloudify-chaos/chaosops/plugin/launcher"
)

func blueprintCommand() *cli.Command {
	return &cli.Command{
		Name:  "blueprint",
		Usage: "work with blueprint folders: check them, render the launcher",
		Subcommands: []*cli.Command{
			{
				Name:      "check",
				Usage:     "read a blueprint as the local runner does and report every problem with file and line",
				ArgsUsage: "BLUEPRINT (main YAML file or its folder)",
				Action: func(c *cli.Context) error {
					if c.NArg() != 1 {
						return usagef("blueprint check needs one BLUEPRINT argument")
					}
					path := blueprint.MainFile(c.Args().First(), "")
					bp, err := blueprint.LoadWith(path, blueprint.LoadOptions{Bundled: launcher.BundledFiles})
					if err != nil {
						return err
					}
					for _, w := range bp.Lint() {
						fmt.Fprintln(c.App.ErrWriter, "warning:", w)
					}
					fmt.Fprintf(c.App.Writer, "%s: %s, %d nodes, %d workflows: ok\n", path, bp.DSLVersion, len(bp.Nodes), len(bp.Workflows))
					return nil
				},
			},
			{
				Name:  "launcher",
				Usage: "write the launcher (bin/chaosops.sh) for an executable: it caches the executable by sha256 and fetches it with ctx download-resource only on a miss",
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
