package blueprint

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// scheduleBlueprint is a blueprint with one workflow taking typed
// parameters, and the given deployment_settings text.
func scheduleBlueprint(settings string) string {
	return `tosca_definitions_version: cloudify_dsl_1_4
imports: [cloudify/types/types.yaml]
inputs:
  dur: {type: string, default: 1m}
node_templates:
  n: {type: cloudify.nodes.Root}
workflows:
  Chaos:
    mapping: default_workflows.cloudify.plugins.workflows.execute_operation
    parameters:
      operation: {default: chaos.run}
      duration: {type: string, default: 30s}
      percent: {type: integer, default: 10}
deployment_settings:
` + settings
}

func TestScheduleParse(t *testing.T) {
	t.Run("a full schedule is read whole", func(t *testing.T) {
		inDir(t, map[string]string{"blueprint.yaml": scheduleBlueprint(`
  default_groups: [chaos]
  id_template: "chaos-{uuid}"
  display_name: nightly chaos
  default_schedules:
    nightly:
      workflow: Chaos
      execution_arguments: {force: true, is_dry_run: false, wait_after_fail: 60, allow_custom_parameters: false}
      workflow_parameters: {duration: {get_input: dur}, percent: 20}
      since: "+1d"
      until: "2030-01-01 00:00"
      recurrence: 1d
      timezone: Europe/Berlin
      weekdays: [MO, tu]
      count: 30
      default_enabled: false
      stop_after_fail: true
      slip: 5
    once:
      workflow: install
      since: "12:30"
      count: 1
`)})
		bp, err := Load("blueprint.yaml")
		if err != nil {
			t.Fatal(err)
		}
		off := false
		want := &Schedule{Name: "nightly", Workflow: "Chaos",
			ExecutionArguments: map[string]any{"force": true, "is_dry_run": false, "wait_after_fail": 60, "allow_custom_parameters": false},
			WorkflowParameters: map[string]any{"duration": map[string]any{"get_input": "dur"}, "percent": 20},
			Since:              "+1d", Until: "2030-01-01 00:00", Recurrence: "1d", Timezone: "Europe/Berlin",
			Weekdays: []string{"mo", "tu"}, Count: 30, DefaultEnabled: &off, StopAfterFail: true, Slip: 5,
			Pos: at("blueprint.yaml", 20, 5)}
		if diff := cmp.Diff(want, bp.DefaultSchedules["nightly"], cmpopts.IgnoreUnexported(Schedule{})); diff != "" {
			t.Error(diff)
		}
		if diff := cmp.Diff([]string{"nightly", "once"}, bp.ScheduleOrder); diff != "" {
			t.Error(diff)
		}
		if bp.DefaultSchedules["nightly"].Enabled() || !bp.DefaultSchedules["once"].Enabled() {
			t.Error("Enabled: want default_enabled, else true")
		}
		var warnings []string
		for _, w := range bp.Lint() {
			if strings.Contains(w.Msg, "deployment_settings") {
				warnings = append(warnings, w.Error())
			}
		}
		if len(warnings) != 2 || !strings.HasPrefix(warnings[0], "blueprint.yaml:30: deployment_settings.default_schedules.nightly.default_enabled: Cloudify 7's") ||
			!strings.HasPrefix(warnings[1], "blueprint.yaml:31: deployment_settings.default_schedules.nightly.stop_after_fail: Cloudify 7's") {
			t.Errorf("warnings %q, want default_enabled and stop_after_fail named", warnings)
		}
	})

	const pre = "blueprint.yaml:17: deployment_settings.default_schedules.s"
	for _, tc := range []struct {
		name     string
		schedule string // keys of schedule s, indented by 6
		want     string // prefix of the one error
	}{
		{"workflow is required", `since: "+1d"`, `blueprint.yaml:16: deployment_settings.default_schedules.s: workflow is missing`},
		{"since is required", `workflow: Chaos`, `blueprint.yaml:16: deployment_settings.default_schedules.s: since is missing`},
		{"a null since is missing", "workflow: Chaos\nsince: null", `blueprint.yaml:16: deployment_settings.default_schedules.s: since is missing`},
		{"an unknown key is not in schema", "workflow: Chaos\nsince: '+1d'\nrecurence: 1d",
			`blueprint.yaml:19: deployment_settings.default_schedules.s: "recurence" is not in schema (did you mean "recurrence"?`},
		{"stop_on_fail points to stop_after_fail", "workflow: Chaos\nsince: '+1d'\nstop_on_fail: true",
			`blueprint.yaml:19: deployment_settings.default_schedules.s: "stop_on_fail" is not in schema (it is the name in cfy and the REST API); in a blueprint write stop_after_fail`},
		{"dry_run points to is_dry_run", "workflow: Chaos\nsince: '+1d'\nexecution_arguments: {dry_run: true}",
			`blueprint.yaml:19: deployment_settings.default_schedules.s.execution_arguments: "dry_run" is not in schema: the blueprint's name for it is is_dry_run`},
		{"an unknown execution argument", "workflow: Chaos\nsince: '+1d'\nexecution_arguments: {queue: true}",
			`blueprint.yaml:19: deployment_settings.default_schedules.s.execution_arguments: "queue" is not in schema`},
		{"force is a boolean", "workflow: Chaos\nsince: '+1d'\nexecution_arguments: {force: 'yes'}",
			`blueprint.yaml:19: deployment_settings.default_schedules.s.execution_arguments.force: expected true or false, got "yes"`},
		{"wait_after_fail is an integer", "workflow: Chaos\nsince: '+1d'\nexecution_arguments: {wait_after_fail: 1m}",
			`blueprint.yaml:19: deployment_settings.default_schedules.s.execution_arguments.wait_after_fail: expected an integer, got "1m"`},
		{"workflow is a string", "workflow: [Chaos]\nsince: '+1d'",
			pre + `.workflow: expected a string, got a list`},
		{"count is an integer", "workflow: Chaos\nsince: '+1d'\nrecurrence: 1d\ncount: many",
			`blueprint.yaml:20: deployment_settings.default_schedules.s.count: expected an integer, got "many"`},
		{"slip is an integer", "workflow: Chaos\nsince: '+1d'\nrecurrence: 1d\nslip: 1.5",
			`blueprint.yaml:20: deployment_settings.default_schedules.s.slip: expected an integer, got 1.5`},
		{"default_enabled is a boolean", "workflow: Chaos\nsince: '+1d'\ndefault_enabled: no-thanks",
			`blueprint.yaml:19: deployment_settings.default_schedules.s.default_enabled: expected true or false`},
		{"weekdays end in a day", "workflow: Chaos\nsince: '+1d'\nrecurrence: 1d\nweekdays: [mo, monday]",
			`blueprint.yaml:20: deployment_settings.default_schedules.s.weekdays[1]: "ay" is not a valid weekday`},
		{"weekdays is a list", "workflow: Chaos\nsince: '+1d'\nrecurrence: 1d\nweekdays: mo",
			`blueprint.yaml:20: deployment_settings.default_schedules.s.weekdays: expected a list, got "mo"`},
		{"recurrence is a time delta", "workflow: Chaos\nsince: '+1d'\nrecurrence: 30s",
			`blueprint.yaml:19: deployment_settings.default_schedules.s.recurrence: "30s" is not a legal time delta`},
		{"recurrence m is not a unit", "workflow: Chaos\nsince: '+1d'\nrecurrence: 5m",
			`blueprint.yaml:19: deployment_settings.default_schedules.s.recurrence: "5m" is not a legal time delta`},
		{"a relative since needs a unit", "workflow: Chaos\nsince: '+1'",
			`blueprint.yaml:18: deployment_settings.default_schedules.s.since: "+1" is not a legal time delta`},
		{"relative terms are written without spaces between them", "workflow: Chaos\nsince: '+1 day +2 h'",
			`blueprint.yaml:18: deployment_settings.default_schedules.s.since: "+1 day +2 h": "1 day " is not a legal time delta`},
		{"an absolute since is YYYY-MM-DD HH:MM", "workflow: Chaos\nsince: '2026-02-30 10:00'",
			`blueprint.yaml:18: deployment_settings.default_schedules.s.since: "2026-02-30 10:00": February has no day 30`},
		{"seconds are not part of an absolute time", "workflow: Chaos\nsince: '2026-01-01 10:00:00'",
			`blueprint.yaml:18: deployment_settings.default_schedules.s.since: "2026-01-01 10:00:00" is not a legal time`},
		{"until has the same forms", "workflow: Chaos\nsince: '+1d'\nuntil: tomorrow",
			`blueprint.yaml:19: deployment_settings.default_schedules.s.until: "tomorrow" is not a legal time`},
		{"timezone must be known", "workflow: Chaos\nsince: '10:00'\ntimezone: Mars/Olympus",
			`blueprint.yaml:19: deployment_settings.default_schedules.s.timezone: "Mars/Olympus" is not a recognized timezone`},
		{"workflow_parameters is a mapping", "workflow: Chaos\nsince: '+1d'\nworkflow_parameters: [a]",
			`blueprint.yaml:19: deployment_settings.default_schedules.s.workflow_parameters: expected a mapping of parameter: value, got a list`},
		{"workflow_parameters cannot be get_attribute", "workflow: Chaos\nsince: '+1d'\nworkflow_parameters: {get_attribute: [n, x]}",
			`blueprint.yaml:19: deployment_settings.default_schedules.s.workflow_parameters: cannot be a runtime property (get_attribute)`},
		{"a workflow parameter cannot be get_attribute", "workflow: Chaos\nsince: '+1d'\nworkflow_parameters: {duration: {get_attribute: [n, x]}}",
			`blueprint.yaml:19: deployment_settings.default_schedules.s.workflow_parameters.duration: cannot be a runtime property (get_attribute)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			text := "  default_schedules:\n    s:\n      " + strings.ReplaceAll(tc.schedule, "\n", "\n      ") + "\n"
			inDir(t, map[string]string{"blueprint.yaml": scheduleBlueprint(text)})
			_, err := Load("blueprint.yaml")
			checkErrorLines(t, err, []string{tc.want})
		})
	}

	t.Run("an unknown deployment_settings key is not in schema", func(t *testing.T) {
		inDir(t, map[string]string{"blueprint.yaml": scheduleBlueprint("  default_schedule: {}\n")})
		_, err := Load("blueprint.yaml")
		checkErrorLines(t, err, []string{`blueprint.yaml:15: deployment_settings: "default_schedule" is not in schema (did you mean "default_schedules"?`})
	})
	t.Run("default_groups is a list", func(t *testing.T) {
		inDir(t, map[string]string{"blueprint.yaml": scheduleBlueprint("  default_groups: chaos\n")})
		_, err := Load("blueprint.yaml")
		checkErrorLines(t, err, []string{`blueprint.yaml:15: deployment_settings.default_groups: expected a list, got "chaos"`})
	})
}

func TestScheduleLint(t *testing.T) {
	for _, tc := range []struct {
		name, schedule string
		want           []string
	}{
		{"the workflow must exist", "workflow: Chaoss\nsince: '+1d'\ncount: 1",
			[]string{`blueprint.yaml:17: deployment_settings.default_schedules.s.workflow: the blueprint has no workflow "Chaoss", so creating a deployment fails; name one of its workflows (did you mean "Chaos"?`}},
		{"workflow_parameters must be declared", "workflow: Chaos\nsince: '+1d'\ncount: 1\nworkflow_parameters: {duraton: 1m}",
			[]string{`blueprint.yaml:20: deployment_settings.default_schedules.s.workflow_parameters: parameter "duraton" is not declared by workflow "Chaos" (did you mean "duration"?`}},
		{"workflow_parameters must have the declared type", "workflow: Chaos\nsince: '+1d'\ncount: 1\nworkflow_parameters: {percent: lots}",
			[]string{`blueprint.yaml:20: deployment_settings.default_schedules.s.workflow_parameters: parameter "percent": "lots" is not an integer (schedule s, workflow Chaos)`}},
		{"allow_custom_parameters lets undeclared ones through", "workflow: Chaos\nsince: '+1d'\ncount: 1\nworkflow_parameters: {extra: 1}\nexecution_arguments: {allow_custom_parameters: true}",
			nil},
		{"without recurrence a schedule runs once", "workflow: Chaos\nsince: '+1d'",
			[]string{`blueprint.yaml:16: deployment_settings.default_schedules.s.recurrence: missing, so the manager refuses the schedule`}},
		{"a weekday position needs a monthly recurrence", "workflow: Chaos\nsince: '+1d'\nrecurrence: 1w\nweekdays: [1mo]",
			[]string{`blueprint.yaml:20: deployment_settings.default_schedules.s.weekdays: "1mo" (a position in the month) needs a monthly or yearly recurrence`}},
		{"a weekday prefix the manager refuses", "workflow: Chaos\nsince: '+1d'\nrecurrence: 1mo\nweekdays: [xmo]",
			[]string{`blueprint.yaml:20: deployment_settings.default_schedules.s.weekdays: the manager refuses "xmo"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			text := "  default_schedules:\n    s:\n      " + strings.ReplaceAll(tc.schedule, "\n", "\n      ") + "\n"
			inDir(t, map[string]string{"blueprint.yaml": scheduleBlueprint(text)})
			problems, _ := lintLines(t, LintOptions{Catalog: testCatalog}, "blueprint.yaml")
			var got []string
			for _, p := range problems {
				if strings.Contains(p, "deployment_settings") {
					got = append(got, p)
				}
			}
			if len(got) != len(tc.want) {
				t.Fatalf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
			for i := range got {
				if !strings.HasPrefix(got[i], tc.want[i]) {
					t.Errorf("problem:\n%s\nwant prefix:\n%s", got[i], tc.want[i])
				}
			}
		})
	}
}

func TestScheduleResolveTime(t *testing.T) {
	base := time.Date(2026, 1, 31, 10, 17, 42, 0, time.UTC)
	s := &Schedule{Timezone: "Europe/Berlin"}
	for _, tc := range []struct {
		expr string
		want time.Time
	}{
		{"+1d", time.Date(2026, 2, 1, 10, 17, 0, 0, time.UTC)},
		{"+2 weeks", time.Date(2026, 2, 14, 10, 17, 0, 0, time.UTC)},
		{"+1d+12h", time.Date(2026, 2, 1, 22, 17, 0, 0, time.UTC)},
		{"+30min", time.Date(2026, 1, 31, 10, 47, 0, 0, time.UTC)},
		{"+1mo", time.Date(2026, 3, 3, 10, 17, 0, 0, time.UTC)},
		{"2026-06-01 02:00", time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)},
		{"2026-1-5 3:04", time.Date(2026, 1, 5, 2, 4, 0, 0, time.UTC)},
	} {
		got, err := s.ResolveTime(tc.expr, base, base)
		if err != nil || !got.Equal(tc.want) {
			t.Errorf("ResolveTime(%q) = %v, %v; want %v", tc.expr, got, err, tc.want)
		}
	}
}
