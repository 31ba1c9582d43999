package commands

import (
	"encoding/json"
	"errors"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/cloudify-chaos/chaosops/plugin/report"
)

func reportCommand() *cli.Command {
	return &cli.Command{
		Name:  "report",
		Usage: "read the reports chaos runs wrote (journal.json, report.md, chart.svg)",
		Description: "A run directory holds journal.json (the full record), report.md (the summary) and chart.svg.\n" +
			"The CLI writes them under --root (default " + report.DefaultRoot + ", or $" + report.RootEnv + "), one directory per\n" +
			"chaos object; an operation writes them into the deployment's working directory. Nothing is changed.",
		Subcommands: []*cli.Command{
			{
				Name:      "show",
				Usage:     "print a run's Markdown summary (or its journal with --json)",
				ArgsUsage: "RUN",
				Description: "RUN is a run directory (or its journal.json), the name of a directory under --root, or a\n" +
					"run id or chaos object name found in the journals under --root.",
				Flags:  []cli.Flag{rootFlag(), &cli.BoolFlag{Name: "json", Usage: "print the journal as JSON instead of the summary"}},
				Action: reportShow,
			},
			{
				Name:  "list",
				Usage: "list the runs under --root, newest first: name, verdict, start",
				Description: "Reads every run directory under --root; one that cannot be read is listed as (unreadable), with the\n" +
					"reason on stderr. Nothing is changed.",
				Flags:  []cli.Flag{rootFlag()},
				Action: reportList,
			},
		},
	}
}

func rootFlag() cli.Flag {
	return &cli.StringFlag{Name: "root", Value: report.DefaultRoot, EnvVars: []string{report.RootEnv}, Usage: "folder holding one directory per run"}
}

// reportRoot is --root; an empty value (CHAOSOPS_REPORT_ROOT= ) means
// the default.
func reportRoot(c *cli.Context) string {
	if r := c.String("root"); r != "" {
		return r
	}
	return report.DefaultRoot
}

func reportShow(c *cli.Context) error {
	if c.NArg() != 1 {
		return usagef("report show needs one RUN (a run directory, name or id; see chaosops report list), got %d arguments", c.NArg())
	}
	run := c.Args().First()
	dir, err := report.Find(reportRoot(c), run)
	if errors.Is(err, report.ErrNoRun) {
		return fmt.Errorf("report show: RUN %q: %v; runs are listed by chaosops report list", run, err)
	}
	if err != nil {
		return fmt.Errorf("report show: RUN %q: %w", run, err)
	}
	j, err := report.Load(dir)
	if err != nil {
		return fmt.Errorf("report show: %w", err)
	}
	if c.Bool("json") {
		enc := json.NewEncoder(c.App.Writer)
		enc.SetIndent("", "  ")
		return enc.Encode(j)
	}
	_, err = fmt.Fprint(c.App.Writer, report.Markdown(j))
	return err
}

func reportList(c *cli.Context) error {
	if c.NArg() > 0 {
		return usagef("report list takes no arguments (got %q); give the folder with --root", c.Args().First())
	}
	root := reportRoot(c)
	runs, err := report.List(root)
	if err != nil {
		return fmt.Errorf("report list: %w", err)
	}
	if len(runs) == 0 {
		fmt.Fprintf(c.App.ErrWriter, "no runs under %s\n", root)
		return nil
	}
	w := tabwriter.NewWriter(c.App.Writer, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "NAME\tVERDICT\tSTARTED\tRUN ID")
	for _, r := range runs {
		if r.Err != nil {
			fmt.Fprintf(w, "%s\t(unreadable)\t\t\n", r.Name)
			fmt.Fprintf(c.App.ErrWriter, "report list: %v\n", r.Err)
			continue
		}
		started := "-"
		if !r.Started.IsZero() {
			started = r.Started.Local().Format(time.RFC3339)
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", r.Name, r.Verdict, started, r.RunID)
	}
	return w.Flush()
}
