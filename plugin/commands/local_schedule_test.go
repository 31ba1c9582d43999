package commands_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestLocalSchedule runs the schedule commands through the executable. The
// deployment's state is moved two days back after install, as if it had
// been created then, so that its daily schedules are due.
func TestLocalSchedule(t *testing.T) {
	bp := filepath.Join(t.TempDir(), "bp")
	if err := os.MkdirAll(bp, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(bp, "blueprint.yaml"), []byte(`tosca_definitions_version: cloudify_dsl_1_4
imports:
  - cloudify/types/types.yaml
node_templates:
  n:
    type: cloudify.nodes.Root
    interfaces:
      test:
        selftest:
          implementation: bin/chaosops.sh
          executor: central_deployment_agent
          max_retries: 0
          inputs:
            chaosops_operation: chaosops.selftest
workflows:
  SelfTest:
    mapping: default_workflows.cloudify.plugins.workflows.execute_operation
    parameters:
      operation: {default: test.selftest}
      operation_kwargs: {default: {}}
deployment_settings:
  default_schedules:
    good:
      workflow: SelfTest
      since: "+1min"
      recurrence: 1d
      workflow_parameters: {operation_kwargs: {outcome: success}}
    bad:
      workflow: SelfTest
      since: "+1min"
      recurrence: 1d
      stop_after_fail: true
      workflow_parameters: {operation_kwargs: {outcome: fail}}
    later:
      workflow: SelfTest
      since: "+1d"
      recurrence: 1w
      default_enabled: false
`), 0o600); err != nil {
		t.Fatal(err)
	}
	state := filepath.Join(t.TempDir(), "state")
	local := []string{"local", "--state-dir", state}
	sched := func(args ...string) cliRun {
		t.Helper()
		return chaosops(t, nil, append(append(append([]string{}, local...), "schedule"), args...)...)
	}
	if r := chaosops(t, nil, append(local, "install", bp, "-d", "s")...); r.code != 0 {
		t.Fatalf("install: exit %d: %s", r.code, r.stderr)
	}
	age(t, filepath.Join(state, "deployments", "s.json"), 48*time.Hour)
	lines := func(out string) []string { return strings.Split(strings.TrimSpace(out), "\n") }
	hasPrefixes := func(t *testing.T, got []string, want ...string) {
		t.Helper()
		if len(got) != len(want) {
			t.Fatalf("lines:\n%s\nwant prefixes:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		for i := range want {
			if !strings.HasPrefix(got[i], want[i]) {
				t.Errorf("line %d: %q, want prefix %q", i+1, got[i], want[i])
			}
		}
	}

	t.Run("list shows each schedule with its state and next occurrence", func(t *testing.T) {
		r := sched("list", "-d", "s")
		if r.code != 0 {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
		got := lines(r.stdout)
		hasPrefixes(t, got, "bad ", "good ", "later ")
		if !strings.Contains(got[1], "enabled") || !strings.Contains(got[1], "next due now") || !strings.Contains(got[2], "disabled") {
			t.Errorf("list:\n%s", r.stdout)
		}
	})

	t.Run("run runs the due schedules once each and exits with the worst run's code", func(t *testing.T) {
		r := sched("run", "-d", "s")
		if r.code != 1 {
			t.Errorf("exit %d, want 1 (a run failed)", r.code)
		}
		hasPrefixes(t, lines(r.stdout),
			"bad: ran SelfTest (occurrence ", "good: ran SelfTest (occurrence ", "later: disabled")
		out := lines(r.stdout)
		if !strings.Contains(out[0], " failed: ") || !strings.HasSuffix(out[0], "; disabled (stop_after_fail)") || !strings.Contains(out[1], " terminated; next ") {
			t.Errorf("run:\n%s", r.stdout)
		}
		if !strings.Contains(r.stderr, "chaosops: 1 of 3 schedules failed") {
			t.Errorf("stderr:\n%s", r.stderr)
		}
	})

	t.Run("run again runs nothing", func(t *testing.T) {
		r := sched("run", "-d", "s")
		if r.code != 0 {
			t.Errorf("exit %d: %s", r.code, r.stderr)
		}
		hasPrefixes(t, lines(r.stdout), "bad: disabled (stop_after_fail)", "good: not due (already ran); next ", "later: disabled")
	})

	t.Run("enable and disable change what run considers", func(t *testing.T) {
		if r := sched("disable", "-d", "s", "good"); r.code != 0 || r.stdout != "good: disabled\n" {
			t.Fatalf("disable: exit %d: %q %s", r.code, r.stdout, r.stderr)
		}
		if r := sched("enable", "-d", "s", "later"); r.code != 0 {
			t.Fatalf("enable: exit %d: %s", r.code, r.stderr)
		}
		r := sched("run", "-d", "s")
		hasPrefixes(t, lines(r.stdout), "bad: disabled (stop_after_fail)", "good: disabled", "later: not due; next ")
	})

	t.Run("an unknown schedule is a usage error naming the schedules", func(t *testing.T) {
		r := sched("enable", "-d", "s", "goood")
		if r.code != 2 || !strings.Contains(r.stderr, "[bad good later]") {
			t.Errorf("exit %d: %s", r.code, r.stderr)
		}
	})
}

// age moves a deployment's creation and its schedules' times back by d.
func age(t *testing.T, file string, d time.Duration) {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var dep map[string]any
	if err := json.Unmarshal(b, &dep); err != nil {
		t.Fatal(err)
	}
	back := func(m map[string]any, key string) {
		if s, ok := m[key].(string); ok {
			tm, err := time.Parse(time.RFC3339Nano, s)
			if err != nil {
				t.Fatal(err)
			}
			m[key] = tm.Add(-d).Format(time.RFC3339Nano)
		}
	}
	back(dep, "created")
	for _, s := range dep["schedules"].(map[string]any) {
		back(s.(map[string]any), "since")
		back(s.(map[string]any), "last_occurrence")
	}
	if b, err = json.Marshal(dep); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, b, 0o600); err != nil {
		t.Fatal(err)
	}
}
