package local_test

import (
	"bufio"
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/cloudify-chaos/chaosops/plugin/internal/chaosbin"
	"github.com/cloudify-chaos/chaosops/plugin/local"
)

// syncBuffer collects event lines from parallel operations.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

func newRunner(t *testing.T) (*local.Runner, *syncBuffer) {
	t.Helper()
	events := &syncBuffer{}
	return &local.Runner{
		Store:        local.Store{Dir: t.TempDir()},
		Executable:   chaosbin.Path(t),
		Events:       events,
		MaxRetryWait: 100 * time.Millisecond,
	}, events
}

// opEvents returns "node op start|done" in the order the events were written.
func opEvents(events string) []string {
	var out []string
	sc := bufio.NewScanner(strings.NewReader(events))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		// time dep workflow instance op LEVEL: msg...
		if len(f) < 7 || !strings.Contains(f[3], "_") || !strings.Contains(f[4], ".") {
			continue
		}
		node := f[3][:strings.LastIndexByte(f[3], '_')]
		op := f[4][strings.LastIndexByte(f[4], '.')+1:]
		switch strings.Join(f[6:], " ") {
		case "done":
			out = append(out, node+" "+op+" done")
		case "starting (attempt 1)":
			out = append(out, node+" "+op+" start")
		}
	}
	return out
}

func index(t *testing.T, seq []string, item string) int {
	t.Helper()
	for i, s := range seq {
		if s == item {
			return i
		}
	}
	t.Fatalf("%q not in %v", item, seq)
	return -1
}

func TestLocalRunner(t *testing.T) {
	smoke := filepath.Join(repoRoot(), "examples", "local-smoke")
	r, events := newRunner(t)
	ctx := t.Context()
	version := chaosbin.Version(t)

	t.Run("install runs lifecycle operations in dependency order, independent nodes in parallel", func(t *testing.T) {
		if err := r.Install(ctx, local.InstallOptions{Blueprint: smoke, Name: "smoke", Inputs: map[string]any{"greeting": "hi"}}); err != nil {
			t.Fatalf("install: %v\n%s", err, events)
		}
		seq := opEvents(events.String())
		before := func(a, b string) {
			if index(t, seq, a) > index(t, seq, b) {
				t.Errorf("%q ran after %q: %v", a, b, seq)
			}
		}
		before("cluster start done", "monitoring create start")
		before("cluster start done", "chaos_mesh create start")
		before("monitoring start done", "app create start")
		before("chaos_mesh start done", "app create start")
		d, err := r.Store.Load("smoke")
		if err != nil {
			t.Fatal(err)
		}
		for _, inst := range d.Instances {
			if inst.State != "started" || inst.RuntimeProperties["chaosops_version"] != version {
				t.Errorf("instance %s: state %s, runtime properties %v", inst.ID, inst.State, inst.RuntimeProperties)
			}
		}
		if d.Capabilities["greeting"] != "hi" {
			t.Errorf("capability greeting = %v, want hi", d.Capabilities["greeting"])
		}
	})

	t.Run("execute runs a custom workflow with parameters on the selected node", func(t *testing.T) {
		err := r.Execute(ctx, "smoke", "SelfTest", map[string]any{"operation_kwargs": map[string]any{"outcome": "success", "extra": []any{1, 2}}})
		if err != nil {
			t.Fatalf("execute: %v\n%s", err, events)
		}
		d, _ := r.Store.Load("smoke")
		var app *local.NodeInstance
		for _, inst := range d.Instances {
			if inst.Node == "app" {
				app = inst
			}
		}
		want := map[string]any{"echo": map[string]any{"greeting": "hi", "cluster_version": version}, "outcome": "success"}
		if diff := cmp.Diff(want, app.RuntimeProperties["selftest"]); diff != "" {
			t.Errorf("selftest runtime property (-want +got):\n%s", diff)
		}
		last := d.Executions[len(d.Executions)-1]
		if last.Workflow != "SelfTest" || last.Status != "terminated" {
			t.Errorf("last execution %+v", last)
		}
	})

	t.Run("a failing workflow is recorded as failed with the operation's message", func(t *testing.T) {
		err := r.Execute(ctx, "smoke", "SelfTest", map[string]any{"operation_kwargs": map[string]any{"outcome": "fail"}})
		if err == nil || !strings.Contains(err.Error(), "failure requested by input outcome=fail") {
			t.Fatalf("err = %v", err)
		}
		d, _ := r.Store.Load("smoke")
		if last := d.Executions[len(d.Executions)-1]; last.Status != "failed" {
			t.Errorf("last execution status %s, want failed", last.Status)
		}
	})

	t.Run("an unknown workflow names the ones that exist", func(t *testing.T) {
		err := r.Execute(ctx, "smoke", "Nope", nil)
		if err == nil || !strings.Contains(err.Error(), "SelfTest") {
			t.Fatalf("err = %v", err)
		}
	})

	t.Run("outputs are evaluated from runtime properties", func(t *testing.T) {
		outs, caps, err := r.Outputs("smoke")
		if err != nil {
			t.Fatal(err)
		}
		if outs["app_version"] != version || caps["greeting"] != "hi" {
			t.Errorf("outputs %v capabilities %v", outs, caps)
		}
	})

	t.Run("uninstall runs in reverse dependency order and removes the deployment", func(t *testing.T) {
		mark := len(events.String())
		if err := r.Uninstall(ctx, "smoke"); err != nil {
			t.Fatalf("uninstall: %v\n%s", err, events)
		}
		seq := opEvents(events.String()[mark:])
		if index(t, seq, "app delete done") > index(t, seq, "cluster delete start") {
			t.Errorf("cluster was deleted before app: %v", seq)
		}
		if _, err := r.Store.Load("smoke"); err == nil {
			t.Error("the deployment still exists after uninstall")
		}
	})
}

func TestSecretsStayOutOfState(t *testing.T) {
	r, events := newRunner(t)
	secret := "s3cr3t-token-value-0a1b2c3d"
	t.Setenv("CHAOSOPS_SECRET_demo__token", secret)
	bp := filepath.Join(repoRoot(), "plugin", "local", "testdata", "secrets", "blueprint.yaml")
	if err := r.Install(t.Context(), local.InstallOptions{Blueprint: bp, Name: "sec"}); err != nil {
		t.Fatalf("install: %v\n%s", err, events)
	}
	state, err := os.ReadFile(filepath.Join(r.Store.Dir, "deployments", "sec.json"))
	if err != nil {
		t.Fatal(err)
	}
	for what, text := range map[string]string{"state": string(state), "events": events.String()} {
		if strings.Contains(text, secret) {
			t.Errorf("the secret appears in %s", what)
		}
	}
	if !strings.Contains(string(state), "[REDACTED]") {
		t.Errorf("expected the echoed secret to be masked in state:\n%s", state)
	}
}

func TestComponents(t *testing.T) {
	r, events := newRunner(t)
	env := filepath.Join(repoRoot(), "plugin", "local", "testdata", "components", "env", "blueprint.yaml")
	ctx := t.Context()
	if err := r.Install(ctx, local.InstallOptions{Blueprint: env, Name: "env"}); err != nil {
		t.Fatalf("install: %v\n%s", err, events)
	}
	child, err := r.Store.Load("env-service")
	if err != nil {
		t.Fatalf("the component's child deployment: %v", err)
	}
	if child.Parent != "env" {
		t.Errorf("child parent %q, want env", child.Parent)
	}
	// The child read the environment's capability and exposed its own.
	if child.Capabilities["seen_cluster"] != "https://cluster.example:6443" {
		t.Errorf("child capabilities %v", child.Capabilities)
	}
	parent, _ := r.Store.Load("env")
	if parent.Outputs["service_capability"] != "https://cluster.example:6443" {
		t.Errorf("parent outputs %v", parent.Outputs)
	}
	if err := r.Uninstall(context.WithoutCancel(ctx), "env"); err != nil {
		t.Fatalf("uninstall: %v\n%s", err, events)
	}
	if list, _ := r.Store.List(); len(list) != 0 {
		t.Errorf("deployments left after uninstall: %d", len(list))
	}
}

func TestUnsupportedRelationshipOperationsAreRefused(t *testing.T) {
	r, _ := newRunner(t)
	dir := t.TempDir()
	bp := filepath.Join(dir, "blueprint.yaml")
	if err := os.WriteFile(bp, []byte(`tosca_definitions_version: cloudify_dsl_1_4
imports: [cloudify/types/types.yaml]
node_templates:
  a: {type: cloudify.nodes.Root}
  b:
    type: cloudify.nodes.Root
    relationships:
      - type: cloudify.relationships.connected_to
        target: a
        source_interfaces:
          cloudify.interfaces.relationship_lifecycle:
            establish: bin/chaosops.sh
`), 0o600); err != nil {
		t.Fatal(err)
	}
	err := r.Install(t.Context(), local.InstallOptions{Blueprint: bp, Name: "rel"})
	if err == nil || !strings.Contains(err.Error(), "blueprint.yaml:") || !strings.Contains(err.Error(), "relationship operation cloudify.interfaces.relationship_lifecycle.establish") {
		t.Fatalf("err = %v", err)
	}
}
