package terraform

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const testSecret = "s3cret-value-4711"

func basicOptions(t *testing.T, workdir string) Options {
	return Options{
		Module:        fixture("basic"),
		WorkDir:       workdir,
		Vars:          map[string]any{"name": "chaos", "replicas": 2},
		SensitiveVars: map[string]any{"secret": testSecret},
		Binary:        terraformBinary(t),
	}
}

func addresses(rs []ResourceSummary) []string {
	out := []string{}
	for _, r := range rs {
		out = append(out, r.Address)
	}
	return out
}

// noSecretsOnDisk fails when a sensitive variable file outlived its
// command.
func noSecretsOnDisk(t *testing.T, dir string) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(dir, sensitiveVarsFile)); err == nil {
		t.Errorf("%s is still on disk after the command", sensitiveVarsFile)
	}
	b, _ := os.ReadFile(filepath.Join(dir, VarsFile))
	if strings.Contains(string(b), testSecret) {
		t.Errorf("%s holds the sensitive variable", VarsFile)
	}
}

func TestLifecycle(t *testing.T) {
	ctx := t.Context()
	dir := filepath.Join(t.TempDir(), "dep1", "infra")
	log, logs := newLogger(t)
	opt := basicOptions(t, dir)
	w, err := Open(ctx, opt, log)
	if err != nil {
		t.Fatal(err)
	}
	all := []string{"terraform_data.credential", "terraform_data.greeting", "terraform_data.replica[0]", "terraform_data.replica[1]"}
	var firstIDs string

	t.Run("init prepares the working directory with built-in providers only", func(t *testing.T) {
		start := time.Now()
		if err := w.Init(ctx); err != nil {
			t.Fatal(err)
		}
		t.Logf("init took %s", time.Since(start).Round(time.Millisecond))
		if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
			t.Errorf("workdir mode: %v, %v; want 0700", fi.Mode().Perm(), err)
		}
		if !logs.contains("terraform.io/builtin/terraform is built in to Terraform") {
			t.Errorf("init's progress lines are not in the log")
		}
	})

	t.Run("plan lists every resource to add by address", func(t *testing.T) {
		res, err := w.Plan(ctx)
		if err != nil {
			t.Fatal(err)
		}
		want := &PlanSummary{Add: all, Change: []string{}, Destroy: []string{}}
		if d := cmp.Diff(want, res.Changes); d != "" {
			t.Errorf("plan (-want +got):\n%s", d)
		}
		noSecretsOnDisk(t, dir)
	})

	t.Run("apply creates them, reports progress and returns the state summary", func(t *testing.T) {
		start := time.Now()
		res, err := w.Apply(ctx)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("apply took %s", time.Since(start).Round(time.Millisecond))
		if d := cmp.Diff(all, res.Changes.Add); d != "" {
			t.Errorf("applied (-want +got):\n%s", d)
		}
		if d := cmp.Diff(all, addresses(res.State.Resources)); d != "" {
			t.Errorf("resources (-want +got):\n%s", d)
		}
		if got := res.State.Outputs["greeting"]; got != "hello chaos" {
			t.Errorf("output greeting = %v", got)
		}
		if d := cmp.Diff(map[string]any{"name": "chaos", "replicas": int64(2)}, res.State.Outputs["settings"]); d != "" {
			t.Errorf("output settings (-want +got):\n%s", d)
		}
		if _, leaked := res.State.Outputs["token"]; leaked {
			t.Errorf("the sensitive output token is among the plain outputs")
		}
		if d := cmp.Diff([]string{"token"}, res.State.SensitiveOutputs); d != "" {
			t.Errorf("sensitive outputs (-want +got):\n%s", d)
		}
		if got := res.Sensitive["token"].Reveal(); got != "token-"+testSecret {
			t.Errorf("sensitive output token = %q", got)
		}
		for _, line := range []string{"terraform_data.greeting: Creating...", "Provisioning with 'local-exec'", "Apply complete! Resources: 4 added, 0 changed, 0 destroyed."} {
			if !logs.contains(line) {
				t.Errorf("the log lacks the progress line %q", line)
			}
		}
		firstIDs = strings.Join(toStrings(res.State.Outputs["replica_ids"]), ",")
		noSecretsOnDisk(t, dir)
	})

	t.Run("output reads the same state", func(t *testing.T) {
		res, err := w.Output(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(all, addresses(res.State.Resources)); d != "" {
			t.Errorf("resources (-want +got):\n%s", d)
		}
		if res.Changes != nil {
			t.Errorf("output reported changes: %v", res.Changes)
		}
		if res.Sensitive["token"].Reveal() != "token-"+testSecret {
			t.Errorf("output lost the sensitive value")
		}
	})

	t.Run("re-applying the unchanged module changes nothing", func(t *testing.T) {
		res, err := w.Apply(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !res.Changes.Empty() {
			t.Errorf("re-apply planned %s", res.Changes)
		}
		if got := strings.Join(toStrings(res.State.Outputs["replica_ids"]), ","); got != firstIDs {
			t.Errorf("resources were replaced: ids %s, before %s", got, firstIDs)
		}
	})

	t.Run("the state survives into a new workspace that re-copies the module", func(t *testing.T) {
		w2, err := Open(ctx, opt, log)
		if err != nil {
			t.Fatal(err)
		}
		res, err := w2.Refresh(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(all, addresses(res.State.Resources)); d != "" {
			t.Errorf("resources after refresh (-want +got):\n%s", d)
		}
	})

	t.Run("the working directory alone keeps module and variables for the next run", func(t *testing.T) {
		bare := Options{WorkDir: dir, SensitiveVars: opt.SensitiveVars, Binary: opt.Binary}
		w2, err := Open(ctx, bare, log)
		if err != nil {
			t.Fatal(err)
		}
		res, err := w2.Plan(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !res.Changes.Empty() {
			t.Errorf("plan on the working directory alone: %s", res.Changes)
		}
	})

	t.Run("a changed variable plans the difference", func(t *testing.T) {
		fewer := opt
		fewer.Vars = map[string]any{"name": "chaos", "replicas": 1}
		w3, err := Open(ctx, fewer, log)
		if err != nil {
			t.Fatal(err)
		}
		res, err := w3.Plan(ctx)
		if err != nil {
			t.Fatal(err)
		}
		want := &PlanSummary{Add: []string{}, Change: []string{}, Destroy: []string{"terraform_data.replica[1]"}}
		if d := cmp.Diff(want, res.Changes); d != "" {
			t.Errorf("plan (-want +got):\n%s", d)
		}
	})

	t.Run("destroy removes every resource and leaves an empty state", func(t *testing.T) {
		start := time.Now()
		res, err := w.Destroy(ctx)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("destroy took %s", time.Since(start).Round(time.Millisecond))
		if d := cmp.Diff(all, res.Changes.Destroy); d != "" {
			t.Errorf("destroyed (-want +got):\n%s", d)
		}
		if len(res.State.Resources) != 0 || len(res.State.Outputs) != 0 || len(res.Sensitive) != 0 {
			t.Errorf("state after destroy: %+v, %d sensitive", res.State, len(res.Sensitive))
		}
		noSecretsOnDisk(t, dir)
		if _, err := os.Stat(filepath.Join(dir, stateBackupFile)); !os.IsNotExist(err) {
			t.Errorf("the state backup, with the destroyed outputs, is still there: %v", err)
		}
		filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
			if err == nil && d.Type().IsRegular() {
				if b, _ := os.ReadFile(path); strings.Contains(string(b), testSecret) {
					t.Errorf("%s still holds the sensitive value after destroy", path)
				}
			}
			return nil
		})
	})

	t.Run("remove deletes the emptied working directory", func(t *testing.T) {
		if err := w.Remove(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(dir); !os.IsNotExist(err) {
			t.Errorf("workdir still there: %v", err)
		}
	})

	if logs.contains(testSecret) {
		t.Errorf("a sensitive value reached the log")
	}
}

// TestStateFilesArePrivate: the state and its backup hold the sensitive
// output in clear; they are 0600 after every command, and destroy removes
// the backup.
func TestStateFilesArePrivate(t *testing.T) {
	ctx := t.Context()
	dir := filepath.Join(t.TempDir(), "infra")
	log, _ := newLogger(t)
	opt := basicOptions(t, dir)
	for _, replicas := range []int{1, 2} { // the second apply backs up the first state
		opt.Vars = map[string]any{"name": "chaos", "replicas": replicas}
		w, err := Open(ctx, opt, log)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Apply(ctx); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{stateFile, stateBackupFile} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), testSecret) {
			t.Errorf("%s does not hold the sensitive output: the check below proves nothing", name)
		}
		if fi, _ := os.Stat(filepath.Join(dir, name)); fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, want 0600", name, fi.Mode().Perm())
		}
	}
	w, err := Open(ctx, opt, log)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Destroy(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, stateBackupFile)); !os.IsNotExist(err) {
		t.Errorf("the state backup, with the destroyed outputs, is still there after destroy: %v", err)
	}
	if fi, err := os.Stat(filepath.Join(dir, stateFile)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("%s after destroy: %v, %v; want mode 0600", stateFile, fi.Mode().Perm(), err)
	}
}

func toStrings(v any) []string {
	l, _ := v.([]any)
	out := []string{}
	for _, e := range l {
		s, _ := e.(string)
		out = append(out, s)
	}
	return out
}
