package local

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"time"

	"github.com/cloudify-chaos/chaosops/plugin/blueprint"
	"github.com/cloudify-chaos/chaosops/plugin/failure"
)

// Schedules returns a deployment's schedules by name.
func (r *Runner) Schedules(name string) ([]*Schedule, error) {
	d, err := r.Store.Load(name)
	if err != nil {
		return nil, err
	}
	return sortedSchedules(d), nil
}

func sortedSchedules(d *Deployment) []*Schedule {
	out := make([]*Schedule, 0, len(d.Schedules))
	for _, s := range d.Schedules {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// SetScheduleEnabled enables or disables one schedule of a deployment.
// Enabling a schedule that stop_after_fail disabled clears that mark; the
// occurrences it missed while disabled do not run.
func (r *Runner) SetScheduleEnabled(name, schedule string, enabled bool) error {
	if err := r.init(); err != nil {
		return err
	}
	d, err := r.Store.Load(name)
	if err != nil {
		return err
	}
	s, err := scheduleOf(d, schedule)
	if err != nil {
		return err
	}
	if enabled && !s.Enabled {
		// A schedule switched back on starts from now, as the manager's
		// next_occurrence does.
		s.LastOccurrence = now()
	}
	s.Enabled, s.DisabledBy = enabled, ""
	return r.save(d)
}

func scheduleOf(d *Deployment, name string) (*Schedule, error) {
	if s := d.Schedules[name]; s != nil {
		return s, nil
	}
	names := make([]string, 0, len(d.Schedules))
	for n := range d.Schedules {
		names = append(names, n)
	}
	sort.Strings(names)
	if len(names) == 0 {
		return nil, failure.Invalidf("", "deployment %s has no schedule %q: its blueprint has no deployment_settings.default_schedules", d.Name, name)
	}
	return nil, failure.Invalidf("", "deployment %s has no schedule %q; its schedules: %v", d.Name, name, names)
}

// ScheduleRun is what RunSchedules did with one schedule.
type ScheduleRun struct {
	Schedule string
	Workflow string
	// Ran is true when the schedule was due and its workflow ran.
	Ran bool
	// Occurrence is the occurrence that ran.
	Occurrence time.Time
	// Reason says why it did not run (see Due.Reason).
	Reason string
	// Next is the schedule's next occurrence after this run's time.
	Next time.Time
	// Execution and Status are the execution's id and end status
	// (terminated, failed, cancelled).
	Execution, Status string
	// Verdicts are the chaos verdicts the run set, "node: verdict".
	Verdicts []string
	// Disabled is set when stop_after_fail disabled the schedule.
	Disabled bool
	// Err is the execution's error.
	Err error
}

// RunSchedules runs every enabled schedule of a deployment that is due,
// once each, in name order, through Execute: the occurrence is recorded
// before the workflow starts (so a crash never runs it twice), then the
// execution's status; a failed run of a schedule with stop_after_fail
// disables it. A cancelled ctx stops after the running workflow, whose
// operations clean up; the schedules after it are not run.
func (r *Runner) RunSchedules(ctx context.Context, name string) ([]ScheduleRun, error) {
	if err := r.init(); err != nil {
		return nil, err
	}
	d, err := r.Store.Load(name)
	if err != nil {
		return nil, err
	}
	t := now()
	var out []ScheduleRun
	for _, s := range sortedSchedules(d) {
		res := ScheduleRun{Schedule: s.Name, Workflow: s.Workflow}
		due, err := s.DueAt(t)
		res.Next = due.Next
		switch {
		case err != nil:
			res.Err = &failure.InvalidError{Err: fmt.Errorf("schedule %s: %w", s.Name, err)}
		case ctx.Err() != nil:
			res.Reason = "not run (cancelled)"
		case !due.Due:
			res.Reason = due.Reason
		default:
			res.Ran, res.Occurrence = true, due.Occurrence
			r.runSchedule(ctx, name, s.Name, due.Occurrence, &res)
		}
		out = append(out, res)
	}
	return out, nil
}

// runSchedule runs one due schedule and records it.
func (r *Runner) runSchedule(ctx context.Context, name, schedule string, occ time.Time, res *ScheduleRun) {
	d, err := r.Store.Load(name)
	if err != nil {
		res.Err = err
		return
	}
	s, err := scheduleOf(d, schedule)
	if err != nil {
		res.Err = err
		return
	}
	started := now()
	s.LastOccurrence, s.LastRun, s.LastStatus, s.LastExecution = occ, started, "started", ""
	s.Runs++
	if res.Err = r.save(d); res.Err != nil {
		return
	}
	before, known := verdicts(d), len(d.Executions)
	params, err := r.scheduleParameters(d, s)
	if err != nil {
		res.Err = &failure.InvalidError{Err: fmt.Errorf("schedule %s: workflow_parameters: %w", schedule, err)}
	} else {
		res.Err = r.Execute(ctx, name, s.Workflow, params)
	}
	after, err := r.Store.Load(name)
	if errors.Is(err, ErrNotFound) {
		res.Status = statusOf(ctx, res.Err)
		return // the workflow was uninstall
	}
	if err != nil {
		res.Err = errors.Join(res.Err, err)
		return
	}
	for _, ex := range after.Executions[min(known, len(after.Executions)):] {
		if ex.Workflow == s.Workflow {
			res.Execution = ex.ID
			break
		}
	}
	res.Status = statusOf(ctx, res.Err)
	for node, v := range verdicts(after) {
		if !reflect.DeepEqual(before[node], v) {
			res.Verdicts = append(res.Verdicts, fmt.Sprintf("%s: %v", node, v[0]))
		}
	}
	slices.Sort(res.Verdicts)
	s, err = scheduleOf(after, schedule)
	if err != nil {
		return
	}
	s.LastExecution, s.LastStatus = res.Execution, res.Status
	if res.Status == "failed" && s.StopOnFail {
		s.Enabled, s.DisabledBy, res.Disabled = false, "stop_after_fail", true
	}
	if err := r.save(after); err != nil {
		res.Err = errors.Join(res.Err, err)
	}
}

func statusOf(ctx context.Context, err error) string {
	switch {
	case err == nil:
		return "terminated"
	case ctx.Err() != nil:
		return "cancelled"
	}
	return "failed"
}

// verdicts returns each node's chaos verdict with the run it belongs to.
func verdicts(d *Deployment) map[string][2]any {
	out := map[string][2]any{}
	for _, inst := range d.Instances {
		if v, ok := inst.RuntimeProperties["chaos_verdict"]; ok {
			out[inst.Node] = [2]any{v, fmt.Sprint(inst.RuntimeProperties["chaos_last_run"])}
		}
	}
	return out
}

// scheduleParameters evaluates the schedule's workflow_parameters (the
// manager evaluates deployment_settings when it creates the deployment;
// here it is done at each run, so a secret's value never goes into the
// state) and, with allow_custom_parameters, leaves out those the workflow
// does not declare (execute_operation drops them on a manager).
func (r *Runner) scheduleParameters(d *Deployment, s *Schedule) (map[string]any, error) {
	if len(s.Parameters) == 0 {
		return nil, nil
	}
	bp, err := loadBlueprint(d.Blueprint)
	if err != nil {
		return nil, err
	}
	rr := &runtimeResolver{r: r, d: d, bp: bp}
	v, err := blueprint.Evaluate(s.Parameters, blueprint.Scope{}, rr.resolver())
	if err != nil {
		return nil, err
	}
	params, _ := v.(map[string]any)
	if custom, _ := s.ExecutionArguments["allow_custom_parameters"].(bool); custom {
		if w := bp.Workflows[s.Workflow]; w != nil {
			for p := range params {
				if w.Parameters[p] == nil {
					delete(params, p)
				}
			}
		}
	}
	return params, nil
}
