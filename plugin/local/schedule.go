package local

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/cloudify-chaos/chaosops/plugin/blueprint"
)

// timeFormat is how schedule times are shown: UTC, to the minute.
const timeFormat = "2006-01-02 15:04 UTC"

// now is the clock of schedules; tests replace it.
var now = func() time.Time { return time.Now().UTC() }

// Schedule is a deployment's execution schedule, created from the
// blueprint's default_schedules when the deployment is created (as the
// manager's create-deployment workflow does), with what has run so far.
type Schedule struct {
	Name       string         `json:"name"`
	Workflow   string         `json:"workflow"`
	Parameters map[string]any `json:"parameters,omitempty"`
	// ExecutionArguments as the blueprint gives them (force,
	// wait_after_fail and allow_custom_parameters; is_dry_run is refused).
	ExecutionArguments map[string]any `json:"execution_arguments,omitempty"`
	Since              time.Time      `json:"since"`
	Until              time.Time      `json:"until,omitzero"`
	Recurrence         string         `json:"recurrence,omitempty"`
	Weekdays           []string       `json:"weekdays,omitempty"`
	Count              int            `json:"count,omitempty"`
	Slip               int            `json:"slip,omitempty"`
	StopOnFail         bool           `json:"stop_on_fail,omitempty"`
	Enabled            bool           `json:"enabled"`

	// LastOccurrence is the latest occurrence handled (at first the
	// deployment's creation): an occurrence at or before it never runs.
	LastOccurrence time.Time `json:"last_occurrence,omitzero"`
	LastRun        time.Time `json:"last_run,omitzero"`
	Runs           int       `json:"runs,omitempty"`
	LastExecution  string    `json:"last_execution,omitempty"`
	LastStatus     string    `json:"last_status,omitempty"` // started, terminated, failed, cancelled
	// DisabledBy says why the runner disabled the schedule ("stop_after_fail").
	DisabledBy string `json:"disabled_by,omitempty"`
}

// newSchedules resolves the blueprint's default schedules for a deployment
// created at created: relative times count from it, absolute ones are read
// in the schedule's timezone, enabled is default_enabled (default true).
func newSchedules(bp *blueprint.Blueprint, created time.Time) (map[string]*Schedule, error) {
	if len(bp.ScheduleOrder) == 0 {
		return nil, nil
	}
	out := map[string]*Schedule{}
	for _, name := range bp.ScheduleOrder {
		s := bp.DefaultSchedules[name]
		where := "deployment_settings.default_schedules." + name
		if dry, _ := s.ExecutionArguments["is_dry_run"].(bool); dry {
			return nil, fmt.Errorf("%s: %s.execution_arguments.is_dry_run: chaosops local has no dry run; remove it", s.KeyPos("execution_arguments"), where)
		}
		since, err := s.ResolveTime(s.Since, created, now())
		if err != nil {
			return nil, fmt.Errorf("%s: %s.since: %w", s.KeyPos("since"), where, err)
		}
		sc := &Schedule{
			Name: name, Workflow: s.Workflow, Parameters: s.WorkflowParameters, ExecutionArguments: s.ExecutionArguments,
			Since: since, Recurrence: s.Recurrence, Weekdays: s.Weekdays, Count: s.Count, Slip: s.Slip,
			StopOnFail: s.StopAfterFail, Enabled: s.Enabled(),
			// The manager's first next_occurrence is the first after the
			// creation: earlier occurrences never run.
			LastOccurrence: created.UTC(),
		}
		if s.Until != "" {
			if sc.Until, err = s.ResolveTime(s.Until, created, now()); err != nil {
				return nil, fmt.Errorf("%s: %s.until: %w", s.KeyPos("until"), where, err)
			}
		}
		if _, err := sc.rule(); err != nil {
			return nil, fmt.Errorf("%s: %s: %w", s.Pos, where, err)
		}
		out[name] = sc
	}
	return out, nil
}

// Due says whether a schedule has an occurrence to run at a time.
type Due struct {
	// Due is true when an occurrence at or before the time has not run.
	Due bool
	// Occurrence is the latest such occurrence (several missed ones run
	// once, as the manager's scheduler skips to the latest).
	Occurrence time.Time
	// Next is the first occurrence after the time; zero when none is left.
	Next time.Time
	// Reason says why it is not due: "disabled", "not yet (first at …)",
	// "ran", "ended".
	Reason string
}

// DueAt computes whether s is due at t.
func (s *Schedule) DueAt(t time.Time) (Due, error) {
	rl, err := s.rule()
	if err != nil {
		return Due{}, err
	}
	var d Due
	rl.each(t, func(occ time.Time) bool {
		if occ.After(t) {
			d.Next = occ
			return false
		}
		if occ.After(s.LastOccurrence) {
			d.Due, d.Occurrence = true, occ
		}
		return true
	})
	switch {
	case !s.Enabled:
		d.Due, d.Occurrence, d.Reason = false, time.Time{}, "disabled"
		if s.DisabledBy != "" {
			d.Reason += " (" + s.DisabledBy + ")"
		}
	case d.Due:
	case rl.since.After(t):
		d.Reason = "not due yet"
	case d.Next.IsZero() && !s.Until.IsZero() && t.After(s.Until):
		d.Reason = "ended (until " + s.Until.Format(timeFormat) + " passed)"
	case d.Next.IsZero() && s.Count > 0:
		d.Reason = fmt.Sprintf("ended (count %d reached)", s.Count)
	case d.Next.IsZero():
		d.Reason = "ended (no occurrence left)"
	case s.Runs > 0:
		d.Reason = "not due (already ran)"
	default:
		d.Reason = "not due"
	}
	return d, nil
}

// rule is a schedule's recurrence rule in the manner of dateutil's rrule,
// which the manager builds (rest-service utils.py get_rrule): a frequency
// and interval from recurrence, one rule per weekday (a position selects
// the nth weekday of the month or year), occurrences from since up to
// until, the first count of them.
type rule struct {
	since, until time.Time
	unit         string // min, h, d, w, mo, y
	n            int
	days         []weekday
	count        int
}

type weekday struct {
	day time.Weekday
	pos int // 0: every; 1-4: the nth; -1: the last
}

var weekdayIndex = map[string]time.Weekday{"su": time.Sunday, "mo": time.Monday, "tu": time.Tuesday,
	"we": time.Wednesday, "th": time.Thursday, "fr": time.Friday, "sa": time.Saturday}

func (s *Schedule) rule() (*rule, error) {
	rl := &rule{since: s.Since.UTC(), until: s.Until.UTC(), count: s.Count, unit: "d", n: 1}
	switch {
	case s.Recurrence != "":
		n, unit, err := blueprint.ParseTimedelta(s.Recurrence)
		if err != nil {
			return nil, fmt.Errorf("recurrence: %w", err)
		}
		if n <= 0 {
			return nil, fmt.Errorf("recurrence: %q: give a number above 0", s.Recurrence)
		}
		rl.unit, rl.n = unit, n
	case s.Count != 1:
		return nil, fmt.Errorf("recurrence is missing: give recurrence (e.g. 1d), or count: 1 to run once (the manager refuses it too)")
	}
	for _, w := range s.Weekdays {
		w = strings.ToLower(w)
		day, ok := weekdayIndex[w[max(0, len(w)-2):]]
		if !ok {
			return nil, fmt.Errorf("weekdays: %q is not a weekday", w)
		}
		wd := weekday{day: day}
		switch prefix := w[:len(w)-2]; prefix {
		case "":
		case "l-":
			wd.pos = -1
		case "1", "2", "3", "4":
			wd.pos = int(prefix[0] - '0')
		default:
			return nil, fmt.Errorf("weekdays: %q: a position is 1-4 or l- (last)", w)
		}
		if wd.pos != 0 && rl.unit != "mo" && rl.unit != "y" {
			return nil, fmt.Errorf("weekdays: %q needs a monthly or yearly recurrence", w)
		}
		rl.days = append(rl.days, wd)
	}
	return rl, nil
}

// maxPeriods bounds the periods each walks, so that a minutely rule with a
// large count cannot hang a command.
const maxPeriods = 2_000_000

// each calls fn with every occurrence in order, until fn returns false or
// the rule ends. limit is the time of interest: without a count the walk
// starts a little before it.
func (rl *rule) each(limit time.Time, fn func(time.Time) bool) {
	seen := 0
	start := 0
	// Without a count the index of an occurrence does not matter: start
	// near limit instead of at since.
	if rl.count == 0 && (rl.unit == "min" || rl.unit == "h" || rl.unit == "d" || rl.unit == "w") && limit.After(rl.since) {
		step := map[string]time.Duration{"min": time.Minute, "h": time.Hour, "d": 24 * time.Hour, "w": 7 * 24 * time.Hour}[rl.unit] * time.Duration(rl.n)
		start = max(0, int(limit.Sub(rl.since)/step)-2)
	}
	for k := start; k < start+maxPeriods; k++ {
		for _, c := range rl.period(k) {
			if c.Before(rl.since) {
				continue
			}
			if !rl.until.IsZero() && c.After(rl.until) {
				return
			}
			if rl.count > 0 && seen >= rl.count {
				return
			}
			seen++
			if !fn(c) {
				return
			}
		}
	}
}

// period returns the candidates of the kth period in order.
func (rl *rule) period(k int) []time.Time {
	s := rl.since
	clock := func(y int, m time.Month, d int) time.Time {
		return time.Date(y, m, d, s.Hour(), s.Minute(), s.Second(), 0, time.UTC)
	}
	var cands []time.Time
	switch rl.unit {
	case "min", "h", "d":
		c := blueprint.AddTimedelta(s, k*rl.n, rl.unit)
		if len(rl.days) == 0 || slices.ContainsFunc(rl.days, func(w weekday) bool { return w.day == c.Weekday() }) {
			cands = append(cands, c)
		}
	case "w":
		if len(rl.days) == 0 {
			c := s.AddDate(0, 0, 7*k*rl.n)
			cands = []time.Time{c}
			break
		}
		monday := s.AddDate(0, 0, -((int(s.Weekday())+6)%7)+7*k*rl.n)
		for i := range 7 {
			d := monday.AddDate(0, 0, i)
			if slices.ContainsFunc(rl.days, func(w weekday) bool { return w.day == d.Weekday() }) {
				cands = append(cands, clock(d.Year(), d.Month(), d.Day()))
			}
		}
	case "mo", "y":
		first := time.Date(s.Year(), s.Month(), 1, 0, 0, 0, 0, time.UTC)
		months := 1
		if rl.unit == "mo" {
			first = first.AddDate(0, k*rl.n, 0)
		} else {
			first = time.Date(s.Year()+k*rl.n, 1, 1, 0, 0, 0, 0, time.UTC)
			months = 12
		}
		end := first.AddDate(0, months, 0)
		if len(rl.days) == 0 {
			m := first.Month()
			if rl.unit == "y" {
				m = s.Month()
			}
			if c := clock(first.Year(), m, s.Day()); c.Day() == s.Day() {
				cands = append(cands, c)
			}
			break
		}
		for _, w := range rl.days {
			var all []time.Time
			for d := first; d.Before(end); d = d.AddDate(0, 0, 1) {
				if d.Weekday() == w.day {
					all = append(all, clock(d.Year(), d.Month(), d.Day()))
				}
			}
			switch {
			case w.pos == 0:
				cands = append(cands, all...)
			case w.pos == -1 && len(all) > 0:
				cands = append(cands, all[len(all)-1])
			case w.pos > 0 && w.pos <= len(all):
				cands = append(cands, all[w.pos-1])
			}
		}
		slices.SortFunc(cands, func(a, b time.Time) int { return a.Compare(b) })
		cands = slices.Compact(cands)
	}
	return cands
}
