package commands

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/cloudify-chaos/chaosops/plugin/local"
)

// scheduleTime is how schedule times are shown.
const scheduleTime = "2006-01-02 15:04 UTC"

// localScheduleCommand is `chaosops local schedule`: the execution
// schedules a deployment got from its blueprint's default_schedules.
func localScheduleCommand() *cli.Command {
	dep := &cli.StringFlag{Name: "deployment-id", Aliases: []string{"d"}, Required: true, Usage: "deployment name"}
	toggle := func(name string, enabled bool) *cli.Command {
		verb := map[bool]string{true: "enable", false: "disable"}[enabled]
		desc := "Steps: set the schedule " + name + "d in the deployment's state (written at once, nothing runs). "
		if enabled {
			desc += "An enabled schedule\n" +
				"runs from its next occurrence on: the occurrences it missed while disabled do not run. Nothing to undo on Ctrl-C."
		} else {
			desc += "schedule run skips\n" +
				"it until it is enabled again. Nothing to undo on Ctrl-C."
		}
		return &cli.Command{
			Name:        name,
			Usage:       verb + " one schedule of a local deployment",
			Description: desc,
			ArgsUsage:   "SCHEDULE",
			Flags:       []cli.Flag{dep},
			Action: func(c *cli.Context) error {
				if c.NArg() != 1 {
					return usagef("local schedule %s needs one SCHEDULE argument (see chaosops local schedule list -d %s)", name, c.String("deployment-id"))
				}
				r, err := newRunner(c)
				if err != nil {
					return err
				}
				if err := r.SetScheduleEnabled(c.String("deployment-id"), c.Args().First(), enabled); err != nil {
					return usageIfInvalid(err)
				}
				_, err = fmt.Fprintf(c.App.Writer, "%s: %sd\n", c.Args().First(), name)
				return err
			},
		}
	}
	return &cli.Command{
		Name:  "schedule",
		Usage: "list, enable, disable and run the execution schedules of a local deployment (deployment_settings.default_schedules)",
		Description: "A deployment gets its schedules when it is created (local install), from the blueprint's\n" +
			"deployment_settings.default_schedules: since relative to the creation, enabled as default_enabled (default\n" +
			"true). There is no scheduler process: schedule run starts what is due, so run it from cron or a CI job.",
		Subcommands: []*cli.Command{
			{
				Name:  "list",
				Usage: "list a deployment's schedules: workflow, enabled, rule, runs, last status and next occurrence",
				Description: "Steps: read the deployment's state and print one line per schedule (times in UTC); nothing is written,\n" +
					"so Ctrl-C has nothing to undo.",
				Flags: []cli.Flag{dep},
				Action: func(c *cli.Context) error {
					r, err := newRunner(c)
					if err != nil {
						return err
					}
					scheds, err := r.Schedules(c.String("deployment-id"))
					if err != nil {
						return err
					}
					return printSchedules(c.App.Writer, scheds)
				},
			},
			toggle("enable", true),
			toggle("disable", false),
			{
				Name:  "run",
				Usage: "run the deployment's enabled schedules that are due, once each, and exit with the worst run's code",
				Description: "Steps: read the deployment's schedules; for each, in name order, decide whether it is due (an occurrence\n" +
					"at or before now that has not run, within since, until, recurrence, weekdays and count; missed occurrences\n" +
					"run once); record the occurrence, then run the workflow with the schedule's workflow_parameters as local\n" +
					"execute does; record the execution's status, and disable a schedule with stop_after_fail whose run failed.\n" +
					"One line per schedule: ran (with the execution, status and chaos verdicts), not due, or disabled. The exit\n" +
					"code is the worst run's (1 failed, 2 bad parameters, 143 cancelled). Ctrl-C cancels the running operations,\n" +
					"which clean up, and marks the execution cancelled; the occurrence counts as run and the schedules after it\n" +
					"are not run.",
				Flags: []cli.Flag{dep},
				Action: func(c *cli.Context) error {
					r, err := newRunner(c)
					if err != nil {
						return err
					}
					runs, err := r.RunSchedules(c.Context, c.String("deployment-id"))
					if err != nil {
						return err
					}
					worst, failed := 0, 0
					var firstErr error
					for _, run := range runs {
						fmt.Fprintln(c.App.Writer, runLine(run))
						if run.Err == nil {
							continue
						}
						failed++
						if code := exitCode(c.Context, run.Err, io.Discard); code > worst {
							worst, firstErr = code, run.Err
						}
					}
					if failed == 0 {
						return nil
					}
					return &exitError{code: worst, err: fmt.Errorf("%d of %d schedules failed; the worst: %w", failed, len(runs), firstErr)}
				},
			},
		},
	}
}

// runLine is one line of schedule run.
func runLine(r local.ScheduleRun) string {
	var b strings.Builder
	b.WriteString(r.Schedule + ": ")
	switch {
	case r.Ran:
		fmt.Fprintf(&b, "ran %s (occurrence %s)", r.Workflow, r.Occurrence.Format(scheduleTime))
		if r.Execution != "" {
			b.WriteString(" execution " + r.Execution)
		}
		b.WriteString(" " + r.Status)
		if len(r.Verdicts) > 0 {
			b.WriteString(", verdict " + strings.Join(r.Verdicts, ", "))
		}
		if r.Err != nil {
			msg, _, _ := strings.Cut(r.Err.Error(), "\n")
			b.WriteString(": " + msg)
		}
		if r.Disabled {
			b.WriteString("; disabled (stop_after_fail)")
		}
	case r.Err != nil:
		b.WriteString("not run: " + r.Err.Error())
	default:
		b.WriteString(r.Reason)
	}
	if !r.Next.IsZero() && r.Err == nil {
		b.WriteString("; next " + r.Next.Format(scheduleTime))
	}
	return b.String()
}

func printSchedules(w io.Writer, scheds []*local.Schedule) error {
	if len(scheds) == 0 {
		_, err := fmt.Fprintln(w, "no schedules (the blueprint has no deployment_settings.default_schedules)")
		return err
	}
	t := time.Now().UTC()
	for _, s := range scheds {
		state := "enabled"
		if !s.Enabled {
			state = "disabled"
			if s.DisabledBy != "" {
				state += "(" + s.DisabledBy + ")"
			}
		}
		rule := "since " + s.Since.Format(scheduleTime)
		if s.Recurrence != "" {
			rule += " every " + s.Recurrence
		}
		if len(s.Weekdays) > 0 {
			rule += " on " + strings.Join(s.Weekdays, ",")
		}
		if s.Count > 0 {
			rule += fmt.Sprintf(" count %d", s.Count)
		}
		if !s.Until.IsZero() {
			rule += " until " + s.Until.Format(scheduleTime)
		}
		last := "-"
		if s.LastStatus != "" {
			last = s.LastStatus + " " + s.LastRun.Format(scheduleTime)
		}
		next := "-"
		if d, err := s.DueAt(t); err == nil {
			switch {
			case d.Due:
				next = "due now"
			case !d.Next.IsZero():
				next = d.Next.Format(scheduleTime)
			}
		}
		if _, err := fmt.Fprintf(w, "%-20s %-20s %-26s %s  runs %d  last %s  next %s\n", s.Name, s.Workflow, state, rule, s.Runs, last, next); err != nil {
			return err
		}
	}
	return nil
}
