// Package experiment runs one chaos experiment with its steady-state
// probes and writes its report: the glue between the lifecycle (package
// chaos), the probes (package probe), the report files (package report)
// and Grafana annotations. The operations and the CLI both call Run.
package experiment

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/cloudify-chaos/chaosops/plugin/chaos"
	"github.com/cloudify-chaos/chaosops/plugin/failure"
	"github.com/cloudify-chaos/chaosops/plugin/grafana"
	"github.com/cloudify-chaos/chaosops/plugin/probe"
	"github.com/cloudify-chaos/chaosops/plugin/report"
)

// annotateTimeout bounds the Grafana call: a slow Grafana must not hold a
// run that is over.
const annotateTimeout = 10 * time.Second

// Options of one experiment.
type Options struct {
	Run    chaos.RunOptions
	Probes []probe.Spec
	// Settle is how long after-phase probes may take to pass again.
	Settle time.Duration
	// ReportDir receives journal.json, report.md and chart.svg; empty
	// writes no files.
	ReportDir string
	// Grafana, when its URL is set, gets one annotation per run window.
	Grafana      grafana.Client
	DashboardUID string
	Log          *slog.Logger
}

// Outcome is a finished experiment.
type Outcome struct {
	Result  *chaos.Result
	Journal *report.Journal
	Files   report.Files
	// Summary is the size-bounded record of the run for runtime property
	// chaos_last_run (report.LastRun).
	Summary map[string]any
}

// Check runs every check of the experiment that needs no cluster: the
// run's (chaos.RunOptions.Check), the probes' and Grafana's URL and CA
// file. An adapter calls it before it connects, so that a refused run
// creates and writes nothing; Run calls it too. Errors name the field.
func (o Options) Check() error {
	errs := []error{o.Run.Check()}
	if _, err := probe.Check(o.Probes, o.Settle); err != nil {
		errs = append(errs, err)
	}
	if o.Grafana.URL != "" {
		if field, err := o.Grafana.Check(); err != nil {
			name := map[string]string{"URL": "grafana_url", "CAFile": "grafana_ca_cert"}[field]
			errs = append(errs, &failure.InvalidError{Field: name, Err: err})
		}
	}
	return errors.Join(errs...)
}

// Run checks the options (Check), starts the probes' load generators, runs the
// experiment with the probes as hooks, and writes the report. Invalid
// probes refuse the run before anything is created (failure.IsInvalid). The
// outcome is returned with the run's error whenever the run started.
func Run(ctx context.Context, runner *chaos.Runner, o Options) (*Outcome, error) {
	log := o.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if err := o.Check(); err != nil {
		return nil, err
	}
	var set *probe.Set
	if len(o.Probes) > 0 {
		var err error
		if set, err = probe.New(o.Probes, probe.Options{Log: log, Settle: o.Settle}); err != nil {
			return nil, &failure.InvalidError{Field: "probes", Err: err}
		}
		set.Start(ctx)
		defer set.Close()
		o.Run.Hooks = set.Hooks()
	}
	res, runErr := runner.Run(ctx, o.Run)
	if res == nil {
		return nil, runErr
	}
	if set != nil {
		set.Close() // the traffic series ends with the run
	}
	out := &Outcome{Result: res, Journal: journal(res, set)}
	// The report is written even after a cancel: it says what was done.
	if o.ReportDir != "" {
		files, err := report.Write(o.ReportDir, out.Journal)
		if err != nil {
			log.Warn(fmt.Sprintf("write the report to %s: %v", o.ReportDir, err))
		} else {
			out.Files = files
			log.Info(fmt.Sprintf("report: %s, %s, %s", files.Markdown, files.Chart, files.Journal))
		}
	}
	out.Summary = report.LastRun(out.Journal, out.Files)
	if o.Grafana.URL != "" {
		annotate(ctx, o, res, log)
	}
	return out, runErr
}

func journal(res *chaos.Result, set *probe.Set) *report.Journal {
	j := &report.Journal{Version: report.JournalVersion, Verdict: res.Verdict, Reason: res.Reason, Cleanup: res.Cleanup, Run: res}
	if set != nil {
		j.Probes, j.Samples, j.Traffic = set.Specs(), set.Samples(), set.Traffic()
	}
	return j
}

// annotate marks the run's window on the Grafana dashboards. A failure is
// a warning: the run itself is over and its verdict stands.
func annotate(ctx context.Context, o Options, res *chaos.Result, log *slog.Logger) {
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), annotateTimeout)
	defer cancel()
	from, to := res.InjectionWindow()
	if from.IsZero() {
		from, to = res.Started, res.Ended
	}
	a := grafana.Annotation{
		From: from, To: to, DashboardUID: o.DashboardUID,
		Tags: []string{"chaosops", "run:" + res.RunID, "verdict:" + string(res.Verdict), res.Kind},
		Text: fmt.Sprintf("%s: verdict %s%s", res.Ref, res.Verdict, suffix(res.Reason)),
	}
	id, err := grafana.Annotate(actx, o.Grafana, a)
	if err != nil {
		log.Warn(fmt.Sprintf("grafana annotation: %v", err))
		return
	}
	log.Info(fmt.Sprintf("grafana annotation %d marks %s", id, res.Ref))
}

func suffix(reason string) string {
	if reason == "" {
		return ""
	}
	return ": " + reason
}
