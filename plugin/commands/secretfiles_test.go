package commands_test

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"

	"github.com/cloudify-chaos/chaosops/plugin/chaos/api"
	"github.com/cloudify-chaos/chaosops/plugin/internal/testenv"
	"github.com/cloudify-chaos/chaosops/plugin/internal/tfbin"
	"github.com/cloudify-chaos/chaosops/plugin/report"
)

// written is what a walk of the folders a command wrote found.
type written struct {
	files   []string // every regular file
	holders []string // the files holding the canary
}

// scanWritten walks root and fails for every file holding canary that group
// or others may read, and for every folder on the way to such a file (root
// included) that is not 0700.
func scanWritten(t *testing.T, root, canary string) written {
	t.Helper()
	var w written
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		w.files = append(w.files, path)
		data, err := os.ReadFile(path)
		if err != nil || !strings.Contains(string(data), canary) {
			return err
		}
		w.holders = append(w.holders, path)
		if fi, _ := os.Stat(path); fi.Mode().Perm()&0o077 != 0 {
			t.Errorf("%s holds the secret with mode %v: want 0600", path, fi.Mode().Perm())
		}
		for dir := filepath.Dir(path); ; dir = filepath.Dir(dir) {
			if fi, _ := os.Stat(dir); fi.Mode().Perm() != 0o700 {
				t.Errorf("%s, on the way to %s which holds the secret, has mode %v: want 0700", dir, path, fi.Mode().Perm())
			}
			if dir == root || len(dir) <= len(root) {
				break
			}
		}
		return nil
	})
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return w
}

// noCanaryOnScreen fails when a command printed the canary.
func noCanaryOnScreen(t *testing.T, r cliRun, canary string) {
	t.Helper()
	if strings.Contains(r.stdout+r.stderr, canary) {
		t.Errorf("the secret was printed:\nstdout: %s\nstderr: %s", r.stdout, r.stderr)
	}
}

// TestTFKeepsSecretsPrivate: the state, its backup and the sensitive
// output files hold the secret in clear, so they are 0600 in 0700 folders;
// destroy leaves no file holding it, and --remove-workdir removes the rest.
func TestTFKeepsSecretsPrivate(t *testing.T) {
	const canary = "canary-tf-9d2e41"
	workdir := filepath.Join(t.TempDir(), "w")
	env := []string{"TF_VAR_secret=" + canary, "CHAOSOPS_TERRAFORM=" + tfbin.Path(t)}
	module := []string{"--dir", tfModule("basic"), "--workdir", workdir, "--var", "name=canary", "--sensitive-var", "secret"}
	for _, step := range []struct {
		name    string
		args    []string
		holders []string // the files that hold the secret afterwards
	}{
		{"apply", append([]string{"tf", "apply", "--var", "replicas=1"}, module...), []string{"outputs/token", "terraform.tfstate"}},
		{"a second apply, which backs up the state", append([]string{"tf", "apply", "--var", "replicas=2"}, module...), []string{"outputs/token", "terraform.tfstate", "terraform.tfstate.backup"}},
		{"destroy", append([]string{"tf", "destroy"}, module...), nil},
		{"destroy --remove-workdir", append([]string{"tf", "destroy", "--remove-workdir"}, module...), nil},
	} {
		t.Run(step.name, func(t *testing.T) {
			r := chaosops(t, env, step.args...)
			if r.code != 0 {
				t.Fatalf("exit %d: %s", r.code, r.stderr)
			}
			noCanaryOnScreen(t, r, canary)
			var got []string
			for _, f := range scanWritten(t, workdir, canary).holders {
				rel, _ := filepath.Rel(workdir, f)
				got = append(got, filepath.ToSlash(rel))
			}
			if d := cmp.Diff(step.holders, got); d != "" {
				t.Errorf("files holding the secret (-want +got):\n%s", d)
			}
		})
	}
	if _, err := os.Stat(workdir); !os.IsNotExist(err) {
		t.Errorf("--remove-workdir left %s: %v", workdir, err)
	}
}

// TestLocalKeepsSecretsPrivate: a deployment input and a get_secret value
// reach the operations; what the local runner keeps of them is in 0600
// files in 0700 folders, and neither is printed.
func TestLocalKeepsSecretsPrivate(t *testing.T) {
	const input, secret = "canary-input-5b7c20", "canary-secret-e3a118"
	bp := filepath.Join(t.TempDir(), "bp")
	if err := os.MkdirAll(bp, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(bp, "blueprint.yaml"), []byte(`tosca_definitions_version: cloudify_dsl_1_4
imports:
  - cloudify/types/types.yaml
inputs:
  password:
    type: string
node_templates:
  n:
    type: cloudify.nodes.Root
    interfaces:
      cloudify.interfaces.lifecycle:
        create:
          implementation: bin/chaosops.sh
          inputs:
            chaosops_operation: chaosops.selftest
            echo: { get_secret: demo-token }
        configure:
          implementation: bin/chaosops.sh
          inputs:
            chaosops_operation: chaosops.selftest
            echo: { get_input: password }
`), 0o600); err != nil {
		t.Fatal(err)
	}
	state := filepath.Join(t.TempDir(), "state")
	env := []string{"CHAOSOPS_SECRET_demo__token=" + secret}
	local := []string{"local", "--state-dir", state}
	for _, step := range []struct {
		name    string
		args    []string
		holders bool
	}{
		{"install", append(local, "install", bp, "-d", "canary", "-i", "password="+input), true},
		{"execute", append(local, "execute", "execute_operation", "-d", "canary", "-p", "operation=cloudify.interfaces.lifecycle.configure"), true},
		{"uninstall", append(local, "uninstall", "-d", "canary"), false},
	} {
		t.Run(step.name, func(t *testing.T) {
			r := chaosops(t, env, step.args...)
			if r.code != 0 {
				t.Fatalf("exit %d: %s", r.code, r.stderr)
			}
			for _, c := range []string{input, secret} {
				noCanaryOnScreen(t, r, c)
			}
			if w := scanWritten(t, state, secret); len(w.holders) > 0 {
				t.Errorf("the get_secret value is kept in %v", w.holders)
			}
			w := scanWritten(t, state, input)
			if step.holders && len(w.holders) == 0 {
				t.Errorf("no state file holds the deployment input (files %v): the mode check proved nothing", w.files)
			}
			if !step.holders && len(w.holders) > 0 {
				t.Errorf("the uninstalled deployment's input is still kept in %v", w.holders)
			}
		})
	}
}

// TestChaosRunKeepsHeadersPrivate: an HTTPChaos whose replace and patch
// headers carry credentials is created with them (the fault needs them),
// but no report file, -o file or output line shows them; every file of the
// run is 0600 in 0700 folders.
func TestChaosRunKeepsHeadersPrivate(t *testing.T) {
	const bearer, apiKey = "canary-bearer-0c6f3d", "canary-apikey-71aa95"
	reports := filepath.Join(t.TempDir(), "reports")
	ns := demoApp(t)
	dir := t.TempDir()
	spec := httpChaosFile(t, ns, fmt.Sprintf(`  replace:
    headers: {Authorization: "Bearer %s", X-Chaos: "1"}
  patch:
    headers: [[X-Api-Key, %s]]
  duration: 10s
`, bearer, apiKey))
	out := filepath.Join(dir, "result.json")
	cmd, stdout, stderr := startUntilInjected(t, []string{report.RootEnv + "=" + reports},
		"chaos", "run", "-f", spec, "-o", out, "--kubeconfig", testenv.Kubeconfig(t), "--safety-lever-file", "")
	t.Run("the object in the cluster carries the real header values", func(t *testing.T) {
		dyn, err := dynamic.NewForConfig(testenv.Config(t))
		if err != nil {
			t.Fatal(err)
		}
		list, err := dyn.Resource(api.GroupVersion.WithResource("httpchaos")).Namespace(ns).List(context.WithoutCancel(t.Context()), metav1.ListOptions{})
		if err != nil || len(list.Items) != 1 {
			t.Fatalf("httpchaos in %s: %v, %v", ns, list, err)
		}
		obj := list.Items[0].Object
		auth, _, _ := unstructured.NestedString(obj, "spec", "replace", "headers", "Authorization")
		patch, _, _ := unstructured.NestedSlice(obj, "spec", "patch", "headers")
		if auth != "Bearer "+bearer || fmt.Sprint(patch) != fmt.Sprintf("[[X-Api-Key %s]]", apiKey) {
			t.Errorf("the created object lacks the real headers: Authorization %q, patch %v", auth, patch)
		}
	})
	if err := cmd.Wait(); err != nil {
		t.Fatalf("chaos run: %v\n%s\n%s", err, stdout.String(), stderr.String())
	}
	r := cliRun{stdout: stdout.String(), stderr: stderr.String()}
	if !strings.Contains(r.stdout, "verdict pass") {
		t.Fatalf("the run did not pass:\n%s\n%s", r.stdout, r.stderr)
	}
	for _, c := range []string{bearer, apiKey} {
		noCanaryOnScreen(t, r, c)
		if w := scanWritten(t, reports, c); len(w.holders) > 0 {
			t.Errorf("report files hold %q: %v", c, w.holders)
		}
		if data, _ := os.ReadFile(out); strings.Contains(string(data), c) {
			t.Errorf("the -o file holds %q", c)
		}
	}
	w := scanWritten(t, reports, "\x00no canary")
	if len(w.files) != 3 {
		t.Fatalf("the run wrote %v, want its journal, report and chart", w.files)
	}
	for _, f := range append(w.files, out) {
		if fi, err := os.Stat(f); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, %v; want 0600", f, fi.Mode().Perm(), err)
		}
	}
	for _, d := range []string{reports, filepath.Dir(w.files[0])} {
		if fi, err := os.Stat(d); err != nil || fi.Mode().Perm() != 0o700 {
			t.Errorf("%s: mode %v, %v; want 0700", d, fi.Mode().Perm(), err)
		}
	}
	if md, _ := os.ReadFile(filepath.Join(filepath.Dir(w.files[0]), report.MarkdownFile)); !strings.Contains(string(md), `"X-Chaos": "1"`) {
		t.Errorf("report.md lost the header that is not secret:\n%s", md)
	}
}
