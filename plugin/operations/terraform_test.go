package operations_test

import (
	"context"
	"encoding/json"
	"github.com/cloudify-chaos/chaosops/plugin/internal/tfbin"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/cloudify-chaos/chaosops/plugin/blueprint"
	"github.com/cloudify-chaos/chaosops/plugin/cloudify/scriptrunner"
	"github.com/cloudify-chaos/chaosops/plugin/internal/chaosbin"
	"github.com/cloudify-chaos/chaosops/plugin/launcher"
	"github.com/cloudify-chaos/chaosops/plugin/operations"
)

const (
	opSecret  = "op-secret-9876-sensitive"
	envSecret = "env-secret-5555-client"
)

// terraformBinary is the real terraform (see plugin/terraform's tests).

// blueprintDir stands for the blueprint folder: the terraform package's
// test modules live in it.
func blueprintDir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "terraform", "testdata")
}

// runOp runs one operation of node "infra" in deployment "dep1" through the
// ctx proxy stand-in, with the given runtime properties to start from.
func runOp(t *testing.T, op string, inputs map[string]any, props map[string]any) (*scriptrunner.Result, *scriptrunner.State) {
	t.Helper()
	return runOpCtx(t, t.Context(), op, inputs, props, nil)
}

// runOpCtx is runOp with a context whose cancel SIGTERMs the operation,
// and a callback for each event-log line.
func runOpCtx(t *testing.T, ctx context.Context, op string, inputs map[string]any, props map[string]any, onLine func(scriptrunner.LogLine)) (*scriptrunner.Result, *scriptrunner.State) {
	t.Helper()
	state := &scriptrunner.State{
		Operation:    scriptrunner.Operation{Name: "cloudify.interfaces.lifecycle." + op, MaxRetries: 0},
		Node:         scriptrunner.Node{ID: "infra", Type: "cloudify.nodes.Root"},
		Instance:     scriptrunner.Instance{ID: "infra_a1b2c3", RuntimeProperties: props},
		DeploymentID: "dep1", BlueprintID: "bp1", ExecutionID: "exec-1", WorkflowID: "install", TenantName: "default_tenant",
	}
	p, err := scriptrunner.NewProxy(state)
	if err != nil {
		t.Fatal(err)
	}
	p.ResourceDir = blueprintDir()
	res, err := p.Run(ctx, scriptrunner.Spec{
		Executable: chaosbin.Path(t),
		Inputs:     inputs,
		Env:        append(os.Environ(), "CHAOSOPS_WATCHDOG_INTERVAL=500ms"),
		Dir:        t.TempDir(),
		Cancel:     scriptrunner.Signal,
		Grace:      30 * time.Second,
		OnLine:     onLine,
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range res.Logs {
		t.Logf("%s %s", l.Level, l.Message)
	}
	return res, state
}

// leaks lists the places a secret shows up: log lines, proxy calls,
// runtime properties, the return value and captured output.
func leaks(res *scriptrunner.Result, state *scriptrunner.State, secrets ...string) []string {
	calls, _ := json.Marshal(res.Calls)
	props, _ := json.Marshal(state.Instance.RuntimeProperties)
	ret, _ := json.Marshal(res.Returned)
	var logs strings.Builder
	for _, l := range res.Logs {
		logs.WriteString(l.Message + "\n")
	}
	var out []string
	for _, s := range secrets {
		for where, text := range map[string]string{"logs": logs.String(), "ctx calls": string(calls), "runtime properties": string(props), "return value": string(ret), "stdout": res.Stdout, "stderr": res.Stderr} {
			if strings.Contains(text, s) {
				out = append(out, s+" in "+where)
			}
		}
	}
	return out
}

func TestTerraformOperations(t *testing.T) {
	workdir := filepath.Join(t.TempDir(), "work", "dep1", "infra")
	inputs := map[string]any{
		"module":              "basic",
		"module_files":        []any{"main.tf", "variables.tf", "outputs.tf", "versions.tf"},
		"variables":           map[string]any{"name": "chaos", "replicas": int64(1)},
		"sensitive_variables": map[string]any{"secret": opSecret},
		"environment":         map[string]any{"ARM_CLIENT_SECRET": envSecret},
		"terraform_binary":    tfbin.Path(t),
		"workdir":             workdir,
	}
	with := func(op string) map[string]any {
		m := map[string]any{"chaosops_operation": op}
		for k, v := range inputs {
			m[k] = v
		}
		return m
	}
	var props map[string]any

	t.Run("apply stores the state summary and outputs, and sensitive outputs only as 0600 files", func(t *testing.T) {
		res, state := runOp(t, "start", with("terraform.apply"), nil)
		if res.Outcome != scriptrunner.Success {
			t.Fatalf("outcome %s: %s", res.Outcome, res.Message)
		}
		tf, _ := state.Instance.RuntimeProperties["terraform"].(map[string]any)
		if tf == nil {
			t.Fatalf("no runtime property terraform: %v", state.Instance.RuntimeProperties)
		}
		tokenFile := filepath.Join(workdir, "outputs", "token")
		want := map[string]any{
			"workdir":           workdir,
			"last_command":      "apply",
			"outputs":           map[string]any{"greeting": "hello chaos", "replica_ids": tf["outputs"].(map[string]any)["replica_ids"], "settings": map[string]any{"name": "chaos", "replicas": int64(1)}},
			"sensitive_outputs": map[string]any{"token": tokenFile},
			"changes": map[string]any{
				"add":    []any{"terraform_data.credential", "terraform_data.greeting", "terraform_data.replica[0]"},
				"change": []any{}, "destroy": []any{}, "summary": "3 to add, 0 to change, 0 to destroy",
			},
			"lock": nil,
		}
		got := map[string]any{}
		for k := range want {
			got[k] = tf[k]
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("runtime property terraform (-want +got):\n%s", d)
		}
		if rs, _ := tf["resources"].([]any); len(rs) != 3 {
			t.Errorf("resources: %v", tf["resources"])
		}
		fi, err := os.Stat(tokenFile)
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("token file: %v %v", fi, err)
		}
		if b, _ := os.ReadFile(tokenFile); string(b) != "token-"+opSecret {
			t.Errorf("token file holds %q", b)
		}
		var logs strings.Builder
		for _, l := range res.Logs {
			logs.WriteString(l.Message + "\n")
		}
		for _, want := range []string{"terraform_data.greeting: Creating...", "Apply complete! Resources: 3 added", "with client secret [REDACTED], inputs not inherited", "terraform apply: 3 to add, 0 to change, 0 to destroy: + terraform_data.credential"} {
			if !strings.Contains(logs.String(), want) {
				t.Errorf("the event log lacks %q", want)
			}
		}
		if l := leaks(res, state, opSecret, envSecret); len(l) > 0 {
			t.Errorf("secrets leaked: %v", l)
		}
		props = state.Instance.RuntimeProperties
	})

	t.Run("a new process finds the state: re-apply changes nothing and output reads it back", func(t *testing.T) {
		res, state := runOp(t, "start", with("terraform.apply"), props)
		if res.Outcome != scriptrunner.Success {
			t.Fatalf("outcome %s: %s", res.Outcome, res.Message)
		}
		tf := state.Instance.RuntimeProperties["terraform"].(map[string]any)
		if got := tf["changes"].(map[string]any)["summary"]; got != "0 to add, 0 to change, 0 to destroy" {
			t.Errorf("re-apply changed %v", got)
		}
		res, state = runOp(t, "configure", map[string]any{"chaosops_operation": "terraform.output", "workdir": workdir, "terraform_binary": inputs["terraform_binary"]}, props)
		if res.Outcome != scriptrunner.Success {
			t.Fatalf("outcome %s: %s", res.Outcome, res.Message)
		}
		tf = state.Instance.RuntimeProperties["terraform"].(map[string]any)
		if d := cmp.Diff(props["terraform"].(map[string]any)["outputs"], tf["outputs"]); d != "" {
			t.Errorf("outputs (-apply +output):\n%s", d)
		}
		if l := leaks(res, state, opSecret, "token-"+opSecret); len(l) > 0 {
			t.Errorf("secrets leaked: %v", l)
		}
	})

	t.Run("destroy empties the state and removes the working directory", func(t *testing.T) {
		res, state := runOp(t, "delete", with("terraform.destroy"), props)
		if res.Outcome != scriptrunner.Success {
			t.Fatalf("outcome %s: %s", res.Outcome, res.Message)
		}
		tf := state.Instance.RuntimeProperties["terraform"].(map[string]any)
		if rs, _ := tf["resources"].([]any); len(rs) != 0 {
			t.Errorf("resources after destroy: %v", rs)
		}
		if d := cmp.Diff(map[string]any{}, tf["sensitive_outputs"]); d != "" {
			t.Errorf("sensitive outputs after destroy (-want +got):\n%s", d)
		}
		if _, err := os.Stat(workdir); !os.IsNotExist(err) {
			t.Errorf("workdir still there: %v", err)
		}
		if l := leaks(res, state, opSecret, envSecret); len(l) > 0 {
			t.Errorf("secrets leaked: %v", l)
		}
	})
}

func TestTerraformOperationErrors(t *testing.T) {
	bin := tfbin.Path(t)
	cases := []struct {
		name    string
		inputs  map[string]any
		message string
	}{
		{
			"a missing terraform names the input and the fix",
			map[string]any{"module": "basic", "terraform_binary": "/opt/none/terraform"},
			`input terraform_binary: terraform not found at "/opt/none/terraform"`,
		},
		{
			"a module without main.tf in the blueprint is named",
			map[string]any{"module": "nonexistent", "terraform_binary": bin},
			"input module: nonexistent/main.tf is not in the blueprint",
		},
		{
			"a variable the module does not declare is refused",
			map[string]any{"module": "basic", "terraform_binary": bin, "variables": map[string]any{"nmae": "x"}},
			"variables: nmae not declared by the module",
		},
		{
			"a malformed backend says what to give",
			map[string]any{"module": "basic", "terraform_binary": bin, "backend": map[string]any{"config": map[string]any{"key": "state"}}},
			"input backend: type is missing",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := map[string]any{"chaosops_operation": "terraform.plan", "workdir": filepath.Join(t.TempDir(), "w")}
			for k, v := range tc.inputs {
				in[k] = v
			}
			res, _ := runOp(t, "create", in, nil)
			if res.Outcome != scriptrunner.Abort || !strings.Contains(res.Message, tc.message) {
				t.Errorf("outcome %s %q; want abort with %q", res.Outcome, res.Message, tc.message)
			}
		})
	}
}

func TestTerraformApplyCancel(t *testing.T) {
	workdir := filepath.Join(t.TempDir(), "w")
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var cancelled time.Time
	in := map[string]any{
		"chaosops_operation": "terraform.apply", "module": "slow", "module_files": []any{"main.tf"},
		"variables": map[string]any{"seconds": int64(30)}, "terraform_binary": tfbin.Path(t), "workdir": workdir,
	}
	res, state := runOpCtx(t, ctx, "start", in, nil, func(l scriptrunner.LogLine) {
		if strings.Contains(l.Message, "(local-exec): started") && cancelled.IsZero() {
			cancelled = time.Now()
			cancel() // SIGTERM to the chaosops process
		}
	})
	if cancelled.IsZero() {
		t.Fatalf("the slow provisioner never started; outcome %s %s", res.Outcome, res.Message)
	}
	t.Logf("SIGTERM to exit: %s", time.Since(cancelled).Round(time.Millisecond))

	t.Run("SIGTERM reaches terraform as an interrupt and the operation ends as cancelled, not retried", func(t *testing.T) {
		if res.Outcome != scriptrunner.Cancelled || res.ExitCode != 143 {
			t.Errorf("outcome %s, exit %d; want cancelled, 143", res.Outcome, res.ExitCode)
		}
		if time.Since(cancelled) > 10*time.Second {
			t.Errorf("took %s to stop", time.Since(cancelled))
		}
		var msgs strings.Builder
		for _, l := range res.Logs {
			msgs.WriteString(l.Message + "\n")
		}
		if !strings.Contains(msgs.String(), "stopped after an interrupt") {
			t.Errorf("the event log does not say terraform was interrupted")
		}
	})
	t.Run("the state left behind is recorded: the interrupted resource is tainted", func(t *testing.T) {
		tf, _ := state.Instance.RuntimeProperties["terraform"].(map[string]any)
		rs, _ := tf["resources"].([]any)
		if len(rs) != 1 || rs[0].(map[string]any)["tainted"] != true {
			t.Errorf("resources %v", tf["resources"])
		}
		if tf["lock"] != nil {
			t.Errorf("lock %v", tf["lock"])
		}
	})
}

func TestAKSBlueprint(t *testing.T) {
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..", "..")
	bp, err := blueprint.LoadWith(filepath.Join(root, "blueprints", "AKS-Azure-TFM", "blueprint.yaml"), blueprint.LoadOptions{Bundled: launcher.BundledFiles})
	if err != nil {
		t.Fatal(err)
	}
	reg := operations.Registry()

	t.Run("every operation names a registered handler and only inputs it declares", func(t *testing.T) {
		n := 0
		for _, node := range bp.Nodes {
			for _, ops := range node.Interfaces {
				for _, o := range ops {
					if o.Implementation != "bin/chaosops.sh" {
						continue
					}
					n++
					name, _ := o.Inputs["chaosops_operation"].(string)
					if name == "" {
						name = o.FullName()
					}
					h, err := reg.Lookup(name)
					if err != nil {
						t.Errorf("%s %s: %v", node.Name, o.FullName(), err)
						continue
					}
					declared := map[string]bool{"chaosops_operation": true, "chaosops_timeout": true}
					for _, in := range h.Inputs {
						declared[in.Name] = true
					}
					for in := range o.Inputs {
						if !declared[in] {
							t.Errorf("%s %s: input %s is not an input of %s", node.Name, o.FullName(), in, name)
						}
					}
				}
			}
		}
		if n < 8 {
			t.Errorf("found %d chaosops operations, want the 4 lifecycle and 4 terraform ones", n)
		}
	})

	t.Run("capabilities read outputs of terraform/aks with the right sensitivity", func(t *testing.T) {
		module, err := os.ReadFile(filepath.Join(root, "terraform", "aks", "outputs.tf"))
		if err != nil {
			t.Fatal(err)
		}
		sensitive := map[string]bool{}
		for _, block := range strings.Split(string(module), "output \"")[1:] {
			name := block[:strings.Index(block, "\"")]
			sensitive[name] = strings.Contains(block, "sensitive   = true")
		}
		for _, capName := range []string{"kubernetes_cluster_host", "ssl_ca_cert", "kubeconfig"} {
			c := bp.Capabilities[capName]
			if c == nil {
				t.Errorf("capability %s is missing", capName)
				continue
			}
			m, _ := c.Value.(map[string]any)
			path, _ := m["get_attribute"].([]any)
			if len(path) != 4 || path[0] != "aks" || path[1] != "terraform" {
				t.Errorf("capability %s: %v is not [aks, terraform, outputs|sensitive_outputs, NAME]", capName, c.Value)
				continue
			}
			out := path[3].(string)
			isSensitive, exists := sensitive[out]
			switch {
			case !exists:
				t.Errorf("capability %s reads output %s, which terraform/aks does not have", capName, out)
			case isSensitive != (path[2] == "sensitive_outputs"):
				t.Errorf("capability %s reads %s.%s, but the output's sensitive = %v", capName, path[2], out, isSensitive)
			}
		}
	})
}
