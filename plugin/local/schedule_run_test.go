package local_test

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/cloudify-chaos/chaosops/plugin/local"
)

// runLines renders RunSchedules' results as "schedule: what".
func runLines(runs []local.ScheduleRun) []string {
	var out []string
	for _, r := range runs {
		what := r.Reason
		if r.Ran {
			what = "ran " + r.Status
			if r.Disabled {
				what += ", disabled"
			}
		}
		out = append(out, r.Schedule+": "+what)
	}
	return out
}

func TestScheduleRun(t *testing.T) {
	r, events := newRunner(t)
	ctx := t.Context()
	bp := filepath.Join(repoRoot(), "plugin", "local", "testdata", "schedules", "blueprint.yaml")
	if err := r.Install(ctx, local.InstallOptions{Blueprint: bp, Name: "sched"}); err != nil {
		t.Fatalf("install: %v\n%s", err, events)
	}
	d, err := r.Store.Load("sched")
	if err != nil {
		t.Fatal(err)
	}
	created := d.Created
	at := func(after time.Duration) {
		local.SetScheduleClock(t, func() time.Time { return created.Add(after) })
	}
	run := func(t *testing.T) []local.ScheduleRun {
		t.Helper()
		runs, err := r.RunSchedules(ctx, "sched")
		if err != nil {
			t.Fatal(err)
		}
		return runs
	}

	t.Run("the deployment gets its schedules at creation, since counted from it", func(t *testing.T) {
		scheds, err := r.Schedules("sched")
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, s := range scheds {
			got = append(got, s.Name+" "+s.Since.Sub(created.Truncate(time.Minute)).String()+" "+map[bool]string{true: "enabled", false: "disabled"}[s.Enabled])
			if !s.LastOccurrence.Equal(created) {
				t.Errorf("%s: last occurrence %v, want the creation %v (earlier occurrences never run)", s.Name, s.LastOccurrence, created)
			}
		}
		want := []string{"failing 1h0m0s enabled", "nightly 1h0m0s enabled", "off 1h0m0s disabled"}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Error(diff)
		}
	})

	t.Run("nothing runs before since", func(t *testing.T) {
		at(30 * time.Minute)
		want := []string{"failing: not due yet", "nightly: not due yet", "off: disabled"}
		if diff := cmp.Diff(want, runLines(run(t))); diff != "" {
			t.Error(diff)
		}
	})

	t.Run("a due schedule runs once through Execute with its workflow_parameters; stop_after_fail disables a failed one", func(t *testing.T) {
		at(2 * time.Hour)
		runs := run(t)
		want := []string{"failing: ran failed, disabled", "nightly: ran terminated", "off: disabled"}
		if diff := cmp.Diff(want, runLines(runs)); diff != "" {
			t.Errorf("%s\n%s", diff, events)
		}
		if runs[0].Err == nil || !strings.Contains(runs[0].Err.Error(), "failure requested by input outcome=fail") {
			t.Errorf("failing: err = %v", runs[0].Err)
		}
		d, _ := r.Store.Load("sched")
		var n *local.NodeInstance
		for _, inst := range d.Instances {
			n = inst
		}
		if echo := n.RuntimeProperties["selftest"].(map[string]any)["echo"]; echo != "nightly" {
			t.Errorf("the nightly run echoed %v; want its workflow_parameters' value", echo)
		}
		s := d.Schedules["nightly"]
		if s.Runs != 1 || s.LastStatus != "terminated" || s.LastExecution == "" || !s.LastOccurrence.Equal(s.Since) {
			t.Errorf("nightly after its run: %+v", s)
		}
		if last := d.Executions[len(d.Executions)-1]; last.ID != s.LastExecution && d.Schedules["failing"].LastExecution != last.ID {
			t.Errorf("the last execution %s is not a schedule's", last.ID)
		}
	})

	t.Run("it does not run again for the same occurrence", func(t *testing.T) {
		at(3 * time.Hour)
		want := []string{"failing: disabled (stop_after_fail)", "nightly: not due (already ran)", "off: disabled"}
		if diff := cmp.Diff(want, runLines(run(t))); diff != "" {
			t.Error(diff)
		}
	})

	t.Run("an enabled schedule runs from its next occurrence on; a disabled one does not", func(t *testing.T) {
		at(3 * time.Hour)
		if err := r.SetScheduleEnabled("sched", "off", true); err != nil {
			t.Fatal(err)
		}
		if err := r.SetScheduleEnabled("sched", "nightly", false); err != nil {
			t.Fatal(err)
		}
		want := []string{"failing: disabled (stop_after_fail)", "nightly: disabled", "off: not due"}
		if diff := cmp.Diff(want, runLines(run(t))); diff != "" {
			t.Error(diff)
		}
		at(26 * time.Hour)
		want = []string{"failing: disabled (stop_after_fail)", "nightly: disabled", "off: ran terminated"}
		if diff := cmp.Diff(want, runLines(run(t))); diff != "" {
			t.Errorf("%s\n%s", diff, events)
		}
	})

	t.Run("an unknown schedule names the ones that exist", func(t *testing.T) {
		err := r.SetScheduleEnabled("sched", "nighty", true)
		if err == nil || !strings.Contains(err.Error(), "[failing nightly off]") {
			t.Errorf("err = %v", err)
		}
	})
}
