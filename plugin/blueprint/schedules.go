package blueprint

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	// Timezone names are checked against an embedded database, as
	// Cloudify's parser checks them against pytz's, so the answer does not
	// depend on the machine.
	_ "time/tzdata"

	"gopkg.in/yaml.v3"
)

// Keys of deployment_settings and of one default schedule, as Cloudify's
// parser declares them (dsl_parser/elements/misc.py DeploymentSettings,
// dsl_parser/elements/deployment_schedules.py DeploymentSchedule).
var (
	deploymentSettingsKeys = []string{"default_schedules", "default_groups", "id_template", "display_name"}
	scheduleKeys           = []string{"workflow", "execution_arguments", "workflow_parameters", "since", "until",
		"recurrence", "timezone", "weekdays", "count", "default_enabled", "stop_after_fail", "slip"}
	executionArgumentKeys = []string{"force", "is_dry_run", "wait_after_fail", "allow_custom_parameters"}
	weekdayNames          = []string{"su", "mo", "tu", "we", "th", "fr", "sa"}
)

// Schedule is one entry of deployment_settings.default_schedules: a
// workflow the manager starts on its own, from since on, every Recurrence.
// Times are kept as written; they are resolved when a deployment is
// created (relative ones count from its creation).
type Schedule struct {
	Name     string
	Workflow string
	// ExecutionArguments holds force, is_dry_run, allow_custom_parameters
	// (bool) and wait_after_fail (int), as given.
	ExecutionArguments map[string]any
	// WorkflowParameters are the parameters of each execution; intrinsic
	// functions in them are evaluated when the deployment is created.
	WorkflowParameters map[string]any
	// Since is "+N unit[+N unit…]" (relative to the deployment's creation),
	// "YYYY-MM-DD HH:MM" or "HH:MM" (today), in Timezone (default: the
	// machine's). Until has the same forms; "" means no end.
	Since, Until string
	// Recurrence is "N unit" (unit min, h, d, w, mo, y or their long
	// forms); "" runs once.
	Recurrence string
	Timezone   string
	// Weekdays are two-letter days (su..sa), optionally prefixed by a
	// position in the month or year (1mo, l-fr), lower case.
	Weekdays []string
	// Count caps the number of occurrences; 0 means no cap.
	Count int
	// DefaultEnabled is whether the schedule is enabled when a deployment
	// is created; nil when not given (Cloudify's default: true).
	DefaultEnabled *bool
	StopAfterFail  bool
	// Slip is how many minutes late an occurrence may still start.
	Slip int
	Pos  Pos

	keyPos map[string]Pos
}

// Enabled returns DefaultEnabled, or Cloudify's default, true
// (rest-service resource_manager.py create_deployment_schedules_from_dict).
func (s *Schedule) Enabled() bool { return s.DefaultEnabled == nil || *s.DefaultEnabled }

// KeyPos returns the position of one key of the schedule, or the
// schedule's own position when the key is not written.
func (s *Schedule) KeyPos(key string) Pos {
	if p, ok := s.keyPos[key]; ok {
		return p
	}
	return s.Pos
}

// deploymentSettings reads the top-level deployment_settings section.
func (r *reader) deploymentSettings(n *yaml.Node) {
	const where = "deployment_settings"
	pairs, ok := r.mapping(n, where)
	if !ok {
		return
	}
	for _, p := range pairs {
		w := where + "." + p.key
		switch p.key {
		case "default_schedules":
			r.schedules(p.v, w)
		case "default_groups":
			if _, ok := r.sequence(p.v, w); !ok {
				continue
			}
		case "id_template":
			if !isNull(p.v) {
				r.str(p.v, w)
			}
		case "display_name":
			if v := deref(p.v); !isNull(v) && v.Kind != yaml.MappingNode {
				r.str(v, w)
			}
		default:
			r.add(r.pos(p.k), "%s: %q is not in schema%s", where, p.key, suggest(p.key, deploymentSettingsKeys))
		}
	}
}

func (r *reader) schedules(n *yaml.Node, where string) {
	pairs, _ := r.mapping(n, where)
	for _, p := range pairs {
		s := r.schedule(p, where+"."+p.key)
		if s == nil || !r.define("default schedule", p.key, s.Pos) {
			continue
		}
		if r.bp.DefaultSchedules == nil {
			r.bp.DefaultSchedules = map[string]*Schedule{}
		}
		r.bp.DefaultSchedules[p.key] = s
		r.bp.ScheduleOrder = append(r.bp.ScheduleOrder, p.key)
	}
}

// schedule reads one default schedule and checks it as Cloudify's parser
// does: the type of every key, weekdays, recurrence, since and until,
// timezone, and no get_attribute in workflow_parameters.
func (r *reader) schedule(p pair, where string) *Schedule {
	s := &Schedule{Name: p.key, Pos: r.pos(p.k), keyPos: map[string]Pos{}}
	pairs, ok := r.mapping(p.v, where)
	if !ok {
		return nil
	}
	for _, q := range pairs {
		s.keyPos[q.key] = r.pos(q.k)
		if isNull(q.v) {
			continue // Cloudify's parser skips a null value, as if the key were not written
		}
		w := where + "." + q.key
		switch q.key {
		case "workflow":
			s.Workflow, _ = r.str(q.v, w)
		case "execution_arguments":
			s.ExecutionArguments = r.executionArguments(q.v, w)
		case "workflow_parameters":
			s.WorkflowParameters = r.workflowParameters(q.v, w)
		case "since":
			s.Since, _ = r.str(q.v, w)
		case "until":
			s.Until, _ = r.str(q.v, w)
		case "recurrence":
			if s.Recurrence, ok = r.str(q.v, w); ok && s.Recurrence != "" {
				if _, _, err := ParseTimedelta(s.Recurrence); err != nil {
					r.add(r.pos(q.v), "%s: %v", w, err)
				}
			}
		case "timezone":
			if s.Timezone, ok = r.str(q.v, w); ok {
				if _, err := LoadTimezone(s.Timezone); err != nil {
					r.add(r.pos(q.v), "%s: %v", w, err)
				}
			}
		case "weekdays":
			s.Weekdays = r.weekdays(q.v, w)
		case "count":
			s.Count, _ = r.integer(q.v, w)
		case "default_enabled":
			if b, ok := r.boolean(q.v, w); ok {
				s.DefaultEnabled = &b
			}
		case "stop_after_fail":
			s.StopAfterFail, _ = r.boolean(q.v, w)
		case "slip":
			s.Slip, _ = r.integer(q.v, w)
		case "stop_on_fail":
			r.add(r.pos(q.k), "%s: %q is not in schema (it is the name in cfy and the REST API); in a blueprint write stop_after_fail", where, q.key)
		default:
			r.add(r.pos(q.k), "%s: %q is not in schema%s", where, q.key, suggest(q.key, scheduleKeys))
		}
	}
	if !given(pairs, "workflow") {
		r.add(s.Pos, "%s: workflow is missing: name the workflow the schedule starts (e.g. workflow: install)", where)
	}
	if !given(pairs, "since") {
		r.add(s.Pos, "%s: since is missing: give the first time, e.g. since: \"+1 day\" (from the deployment's creation) or \"2026-01-31 02:00\"", where)
	}
	for key, v := range map[string]string{"since": s.Since, "until": s.Until} {
		if !given(pairs, key) || !isString(pairValue(pairs, key)) {
			continue
		}
		if err := checkTimeExpression(v, s.Timezone); err != nil {
			r.add(s.keyPos[key], "%s.%s: %v", where, key, err)
		}
	}
	return s
}

// given reports whether a key is written with a value other than null.
func given(pairs []pair, key string) bool {
	return slices.ContainsFunc(pairs, func(p pair) bool { return p.key == key && !isNull(p.v) })
}

func isString(n *yaml.Node) bool {
	n = deref(n)
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!str"
}

func pairValue(pairs []pair, key string) *yaml.Node {
	for _, p := range pairs {
		if p.key == key {
			return p.v
		}
	}
	return nil
}

func (r *reader) executionArguments(n *yaml.Node, where string) map[string]any {
	pairs, ok := r.mapping(n, where)
	if !ok {
		return nil
	}
	out := map[string]any{}
	for _, p := range pairs {
		w := where + "." + p.key
		if isNull(p.v) {
			continue
		}
		switch p.key {
		case "force", "is_dry_run", "allow_custom_parameters":
			if b, ok := r.boolean(p.v, w); ok {
				out[p.key] = b
			}
		case "wait_after_fail":
			if i, ok := r.integer(p.v, w); ok {
				out[p.key] = i
			}
		case "dry_run":
			r.add(r.pos(p.k), "%s: %q is not in schema: the blueprint's name for it is is_dry_run (dry_run is the name in cfy and the docs)", where, p.key)
		default:
			r.add(r.pos(p.k), "%s: %q is not in schema%s", where, p.key, suggest(p.key, executionArgumentKeys))
		}
	}
	return out
}

// workflowParameters reads workflow_parameters, refusing get_attribute as
// the parser does: as the mapping's own key, or as a key of one of its
// values (deeper calls pass the parser).
func (r *reader) workflowParameters(n *yaml.Node, where string) map[string]any {
	m, ok := r.value(n, where, ctxPlain).(map[string]any)
	if !ok {
		r.add(r.pos(n), "%s: expected a mapping of parameter: value, got %s", where, describe(n))
		return nil
	}
	const fix = "schedules are created with the deployment, before any runtime property exists; give the value itself or use get_input"
	if _, ok := m[FuncGetAttribute]; ok {
		r.add(r.pos(n), "%s: cannot be a runtime property (get_attribute); %s", where, fix)
		return m
	}
	for _, k := range slices.Sorted(func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}) {
		if sub, ok := m[k].(map[string]any); ok {
			if _, ok := sub[FuncGetAttribute]; ok {
				r.add(r.pos(n), "%s.%s: cannot be a runtime property (get_attribute); %s", where, k, fix)
			}
		}
	}
	return m
}

func (r *reader) weekdays(n *yaml.Node, where string) []string {
	items, ok := r.sequence(n, where)
	if !ok {
		return nil
	}
	var out []string
	for i, item := range items {
		w := fmt.Sprintf("%s[%d]", where, i)
		d, ok := r.str(item, w)
		if !ok {
			continue
		}
		d = strings.ToLower(d)
		if day := d[max(0, len(d)-2):]; !slices.Contains(weekdayNames, day) {
			r.add(r.pos(item), "%s: %q is not a valid weekday (the last two letters must be one of %s; e.g. mo, or 1mo / l-fr with a monthly or yearly recurrence)",
				w, day, strings.Join(weekdayNames, ", "))
			continue
		}
		out = append(out, d)
	}
	return out
}

// timedelta is the pattern of Cloudify's unpack_timedelta_string
// (cloudify/utils.py): a number, an optional space, a unit, an optional s.
var timedelta = regexp.MustCompile(`^(\d+) ?(min|minute|h|hour|d|day|w|week|mo|month|y|year)s?$`)

// ParseTimedelta reads "N unit" as Cloudify's unpack_timedelta_string
// does and returns the number and the unit's short name (min, h, d, w, mo,
// y).
func ParseTimedelta(s string) (int, string, error) {
	m := timedelta.FindStringSubmatch(s)
	if m == nil {
		return 0, "", fmt.Errorf("%q is not a legal time delta; write a number and a unit: min, h, d, w, mo or y (or minute, hour, day, week, month, year; a plural s is fine), e.g. 1d or \"2 hours\"", s)
	}
	n, err := strconv.Atoi(m[1])
	if err != nil {
		return 0, "", fmt.Errorf("%q: the number is too large", s)
	}
	unit := map[string]string{"minute": "min", "hour": "h", "day": "d", "week": "w", "month": "mo", "year": "y"}[m[2]]
	if unit == "" {
		unit = m[2]
	}
	return n, unit, nil
}

// relativeDelta is the pattern Cloudify finds the terms of a relative time
// with (deployment_schedules.py parse_time_expression).
var relativeDelta = regexp.MustCompile(`\+\d+ ?[a-z]+ ?`)

// RelativeTerms returns the "N unit" terms of a relative time such as
// "+1d+12h" or "+2 weeks", each checked as Cloudify's parser checks it.
// A term followed by a space ("+1 day +2h") is refused, as the parser
// refuses it.
func RelativeTerms(expr string) ([]string, error) {
	var terms []string
	for _, t := range relativeDelta.FindAllString(expr, -1) {
		if _, _, err := ParseTimedelta(t[1:]); err != nil {
			return nil, fmt.Errorf("%q: %w (terms are written without spaces between them, e.g. +1d+12h)", expr, err)
		}
		terms = append(terms, t[1:])
	}
	if len(terms) == 0 {
		// The parser lets this through, but the manager's
		// parse_utc_datetime_relative refuses it when the deployment is created.
		return nil, fmt.Errorf("%q is not a legal time delta; write e.g. \"+1 day\" or +1d+12h", expr)
	}
	return terms, nil
}

// absoluteTime matches what Python's strptime accepts for "%Y-%m-%d %H:%M"
// and "%H:%M".
var (
	absoluteDate = regexp.MustCompile(`^(\d{4})-(1[0-2]|0[1-9]|[1-9])-(3[01]|[12]\d|0[1-9]|[1-9]| [1-9])\s+(2[0-3]|[01]\d|\d):([0-5]\d|\d)$`)
	absoluteHour = regexp.MustCompile(`^(2[0-3]|[01]\d|\d):([0-5]\d|\d)$`)
)

// ParseAbsoluteTime reads "YYYY-MM-DD HH:MM", or "HH:MM" on today's date
// (the date at now in the machine's time zone, as Python's
// datetime.today()), in loc.
func ParseAbsoluteTime(expr string, loc *time.Location, now time.Time) (time.Time, error) {
	atoi := func(s string) int { n, _ := strconv.Atoi(strings.TrimSpace(s)); return n }
	if m := absoluteDate.FindStringSubmatch(expr); m != nil {
		y, mo, d := atoi(m[1]), atoi(m[2]), atoi(m[3])
		t := time.Date(y, time.Month(mo), d, atoi(m[4]), atoi(m[5]), 0, 0, loc)
		if t.Day() != d {
			return time.Time{}, fmt.Errorf("%q: %s has no day %d", expr, time.Month(mo), d)
		}
		return t, nil
	}
	if m := absoluteHour.FindStringSubmatch(expr); m != nil {
		today := now.In(time.Local)
		return time.Date(today.Year(), today.Month(), today.Day(), atoi(m[1]), atoi(m[2]), 0, 0, loc), nil
	}
	return time.Time{}, fmt.Errorf("%q is not a legal time; write YYYY-MM-DD HH:MM, HH:MM (today) or a time from the deployment's creation such as \"+1 day\"", expr)
}

// LoadTimezone returns the location of a time zone name such as
// Europe/Berlin, EST or UTC; "" is the machine's time zone.
func LoadTimezone(name string) (*time.Location, error) {
	if name == "" {
		return time.Local, nil
	}
	if name == "Local" {
		return nil, fmt.Errorf("%q is not a recognized timezone; leave timezone out for the machine's own, or name one, e.g. Europe/Berlin or UTC", name)
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("%q is not a recognized timezone; use a name of the tz database, e.g. Europe/Berlin, America/New_York or UTC", name)
	}
	return loc, nil
}

func checkTimeExpression(expr, tz string) error {
	if strings.HasPrefix(expr, "+") {
		_, err := RelativeTerms(expr)
		return err
	}
	loc, err := LoadTimezone(tz)
	if err != nil {
		return nil // reported with timezone
	}
	_, err = ParseAbsoluteTime(expr, loc, time.Now())
	return err
}

// ResolveTime turns since or until into a UTC time: a relative expression
// counts from base (seconds dropped, as Cloudify's
// parse_utc_datetime_relative does), an absolute one is read in the
// schedule's timezone. now gives today's date for "HH:MM".
func (s *Schedule) ResolveTime(expr string, base, now time.Time) (time.Time, error) {
	if strings.HasPrefix(expr, "+") {
		terms, err := RelativeTerms(expr)
		if err != nil {
			return time.Time{}, err
		}
		t := base.UTC().Truncate(time.Minute)
		for _, term := range terms {
			n, unit, _ := ParseTimedelta(term)
			t = AddTimedelta(t, n, unit)
		}
		return t, nil
	}
	loc, err := LoadTimezone(s.Timezone)
	if err != nil {
		return time.Time{}, err
	}
	t, err := ParseAbsoluteTime(expr, loc, now)
	return t.UTC(), err
}

// AddTimedelta adds n units (min, h, d, w, mo, y) to t. Months and years
// overflow into the next month as Go's AddDate does (Jan 31 + 1mo is
// Mar 3, as in Cloudify's parse_and_apply_timedelta).
func AddTimedelta(t time.Time, n int, unit string) time.Time {
	switch unit {
	case "min":
		return t.Add(time.Duration(n) * time.Minute)
	case "h":
		return t.Add(time.Duration(n) * time.Hour)
	case "d":
		return t.AddDate(0, 0, n)
	case "w":
		return t.AddDate(0, 0, 7*n)
	case "mo":
		return t.AddDate(0, n, 0)
	case "y":
		return t.AddDate(n, 0, 0)
	}
	return t
}

// managerWeekday is what the manager accepts as a weekday
// (rest-service rest_utils.py _verify_weekdays), lower-cased.
var managerWeekday = regexp.MustCompile(`^([1-4]|l-)?(su|mo|tu|we|th|fr|sa)$`)

// schedules checks each default schedule against the blueprint and what
// the manager refuses when it creates the deployment's schedules: the
// workflow exists, workflow_parameters resolve against its parameters, a
// schedule without recurrence runs once (count 1), and weekdays with a
// position (1mo, l-fr) go with a monthly or yearly recurrence.
func (k *check) schedules() {
	for _, name := range k.bp.ScheduleOrder {
		s := k.bp.DefaultSchedules[name]
		where := "deployment_settings.default_schedules." + name
		w := k.bp.Workflows[s.Workflow]
		switch {
		case s.Workflow == "":
		case w == nil:
			var names []string
			for n, wf := range k.bp.Workflows {
				if !wf.Builtin || n == "install" || n == "uninstall" || n == "execute_operation" {
					names = append(names, n)
				}
			}
			k.problems.add(s.KeyPos("workflow"), "%s.workflow: the blueprint has no workflow %q, so creating a deployment fails; name one of its workflows%s",
				where, s.Workflow, suggest(s.Workflow, names))
		default:
			params := s.WorkflowParameters
			if custom, _ := s.ExecutionArguments["allow_custom_parameters"].(bool); custom {
				params = map[string]any{}
				for p, v := range s.WorkflowParameters {
					if w.Parameters[p] != nil {
						params[p] = v
					}
				}
			}
			if _, err := w.ResolveParameters(params); err != nil {
				for _, line := range strings.Split(err.Error(), "\n") {
					k.problems.add(s.KeyPos("workflow_parameters"), "%s.workflow_parameters: %s (schedule %s, workflow %s); fix the value under workflow_parameters, or the workflow's parameters",
						where, line, name, s.Workflow)
				}
			}
		}
		_, unit, _ := ParseTimedelta(s.Recurrence)
		if s.Recurrence == "" && s.Count != 1 {
			k.problems.add(s.Pos, "%s.recurrence: missing, so the manager refuses the schedule (\"recurrence must be specified for execution count larger than 1\"); add recurrence (e.g. recurrence: 1d), or count: 1 to run once",
				where)
		}
		for _, d := range s.Weekdays {
			m := managerWeekday.FindStringSubmatch(d)
			switch {
			case m == nil:
				k.problems.add(s.KeyPos("weekdays"), "%s.weekdays: the manager refuses %q; write a day (su, mo, tu, we, th, fr, sa), optionally prefixed by 1-4 or l- (last)", where, d)
			case m[1] != "" && unit != "mo" && unit != "y":
				k.problems.add(s.KeyPos("weekdays"), "%s.weekdays: %q (a position in the month) needs a monthly or yearly recurrence (e.g. recurrence: 1mo), or write %s", where, d, m[2])
			}
		}
	}
}

// lintSchedules warns of schedule keys that Cloudify's parser accepts but
// the manager does not apply as written.
func (bp *Blueprint) lintSchedules(c *errs) {
	for _, name := range bp.ScheduleOrder {
		s := bp.DefaultSchedules[name]
		where := "deployment_settings.default_schedules." + name
		for _, key := range []string{"default_enabled", "stop_after_fail"} {
			if _, ok := s.keyPos[key]; ok {
				c.add(s.KeyPos(key), "%s.%s: Cloudify 7's create-deployment workflow hands the schedule's keys to the REST client's execution_schedules.create, which takes no %s (mgmtworker deployment_environment.py format_plan_schedule), so a manager may fail to create the deployment; chaosops local honours it. After creating the deployment on a manager, check with cfy deployments schedule list",
					where, key, key)
			}
		}
		if dry, _ := s.ExecutionArguments["is_dry_run"].(bool); dry {
			c.add(s.KeyPos("execution_arguments"), "%s.execution_arguments.is_dry_run: the manager's REST service reads dry_run, not is_dry_run, so a scheduled execution is never a dry run; set it with cfy deployments schedule update instead",
				where)
		}
	}
}
