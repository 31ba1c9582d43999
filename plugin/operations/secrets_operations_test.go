package operations_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/tools/clientcmd"

	"github.com/cloudify-chaos/chaosops/plugin/cloudify/scriptrunner"
	"github.com/cloudify-chaos/chaosops/plugin/internal/chaosbin"
	"github.com/cloudify-chaos/chaosops/plugin/internal/cmd/reliability/trial"
	"github.com/cloudify-chaos/chaosops/plugin/internal/testenv"
	"github.com/cloudify-chaos/chaosops/plugin/internal/tfbin"
	"github.com/cloudify-chaos/chaosops/plugin/operations"
	"github.com/cloudify-chaos/chaosops/plugin/redact"
)

// canaries are recognisable fake secrets, and the real admin credentials,
// that must never show up outside the places meant for them.
type canaries struct {
	token      string // a bearer token
	kubeToken  string // the token inside the canary kubeconfig
	keyPEM     string // a private key in PEM
	kubeconfig string // refused by the API server: canary token, canary key
	// working is the admin kubeconfig plus an unused user holding the
	// canary token and key, so operations get far.
	working string
	host    string // the API server URL
	caPEM   string // its CA
	// needles are the strings searched for: the values above, each line of
	// the key's body, the base64 forms, and the admin's client key.
	needles []string
}

func newCanaries(t *testing.T) canaries {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	c := canaries{
		token:     "tok-SECRET-CANARY-7f3a9c1e5b",
		kubeToken: "kc-SECRET-CANARY-2d8e4a6f0c",
		keyPEM:    string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der})),
	}
	admin := adminKubeconfig(t)
	cfg, err := clientcmd.RESTConfigFromKubeConfig([]byte(admin))
	if err != nil {
		t.Fatal(err)
	}
	c.host, c.caPEM = cfg.Host, string(cfg.CAData)
	canaryUser := fmt.Sprintf("- name: canary\n  user:\n    token: %s\n    client-key-data: %s\n", c.kubeToken, base64.StdEncoding.EncodeToString([]byte(c.keyPEM)))
	c.working = strings.Replace(admin, "users:\n", "users:\n"+canaryUser, 1)
	if c.working == admin {
		t.Fatal("the admin kubeconfig has no users: section to add the canary user to")
	}
	c.kubeconfig = fmt.Sprintf(`apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: %q, certificate-authority-data: %s}}]
users:
- name: u
  user: {token: %s}
%scontexts: [{name: c, context: {cluster: c, user: u}}]
current-context: c
`, c.host, base64.StdEncoding.EncodeToString(cfg.CAData), c.kubeToken, canaryUser)
	c.needles = []string{c.token, c.kubeToken, base64.StdEncoding.EncodeToString([]byte(c.keyPEM)),
		base64.StdEncoding.EncodeToString(cfg.KeyData)}
	for _, pemText := range []string{c.keyPEM, string(cfg.KeyData)} {
		for _, line := range strings.Split(pemText, "\n") {
			if len(line) >= 24 && !strings.HasPrefix(line, "-----") {
				c.needles = append(c.needles, line)
			}
		}
	}
	return c
}

// secretValue is the canary in the natural shape of a secret-carrying
// input; working says whether the connection should succeed.
func (c canaries) secretValue(name string, working bool) any {
	switch name {
	case "kubeconfig":
		if working {
			return c.working
		}
		return c.kubeconfig
	case "api_options":
		return map[string]any{"host": c.host, "api_key": c.token, "ssl_ca_cert": c.caPEM}
	case "sensitive_variables":
		return map[string]any{"secret": c.token}
	case "environment":
		return map[string]any{"ARM_CLIENT_SECRET": c.token, "ARM_CLIENT_CERTIFICATE": c.keyPEM}
	}
	return c.token
}

// secretInputs fills op's inputs: every input that carries a secret gets a
// canary; the rest get working values. Only one connection form is given.
func (c canaries) secretInputs(t *testing.T, op, ns string, working bool) map[string]any {
	t.Helper()
	inputs := baseInputs(op)
	delete(inputs, "kubeconfig")
	h, err := operations.Registry().Lookup(op)
	if err != nil {
		t.Fatal(err)
	}
	conn := "kubeconfig"
	if !working && strings.Contains(op, "apply") {
		conn = "api_options" // the other form of credentials, refused too
	}
	for _, in := range h.Inputs {
		switch {
		case in.Name == "kubeconfig" || in.Name == "api_options" || in.Name == "token" || in.Name == "host":
			if in.Name == conn {
				inputs[in.Name] = c.secretValue(in.Name, working)
			}
		case in.Sensitive || redact.SensitiveName(in.Name):
			inputs[in.Name] = c.secretValue(in.Name, working)
		}
	}
	if _, ok := inputs["namespace"]; ok {
		inputs["namespace"] = ns
	}
	switch {
	case op == "chaos_actions.run":
		inputs["manifest"] = httpChaosManifest(ns, 2*time.Second)
	case op == "kubernetes.apply":
		// A Secret whose data comes from a templated value: neither may
		// reach the change set, logs or properties.
		inputs["manifest"] = fmt.Sprintf("apiVersion: v1\nkind: Secret\nmetadata: {name: creds, namespace: %s}\nstringData: {password: \"{{ .password }}\", token: %s}\n", ns, c.token)
		inputs["values"] = map[string]any{"password": c.kubeToken}
	case op == "helm.install":
		inputs["values"] = map[string]any{"greeting": "hello", "password": c.token}
		inputs["timeout"] = "60s"
	case strings.HasPrefix(op, "chaos_actions.run") || op == "chaos_actions.preflight":
		inputs["duration"] = "2s"
	case strings.HasPrefix(op, "terraform."):
		inputs["terraform_binary"] = tfbin.Path(t)
		inputs["variables"] = map[string]any{"name": "canary", "replicas": int64(1)}
	}
	return inputs
}

// byDesign says whether a file holds secrets on purpose: Terraform keeps
// sensitive outputs in its state and chaosops writes each one to
// outputs/<name>; both must be readable by the owner only.
func byDesign(path string) bool {
	base := filepath.Base(path)
	return strings.HasPrefix(base, "terraform.tfstate") || filepath.Base(filepath.Dir(path)) == "outputs"
}

// leaksIn lists where a needle shows up: the event log, captured output,
// every ctx call (properties, return value, abort message), the final
// runtime properties, and every file under root.
func (c canaries) leaksIn(t *testing.T, res *scriptrunner.Result, state *scriptrunner.State, root string) []string {
	t.Helper()
	places := map[string]string{"event log": chaosLogs(res), "stdout": res.Stdout, "stderr": res.Stderr, "ctx calls": toJSON(res.Calls)}
	if state != nil {
		props := state.Instance.RuntimeProperties
		if tok, ok := props["dashboard_token"]; ok {
			// The one property that holds a secret on purpose (a minted
			// token, not an input): it must be marked sensitive.
			if m, _ := tok.(map[string]any); m["sensitive"] != true {
				t.Errorf("dashboard_token is not marked sensitive")
			}
		}
		places["runtime properties"] = toJSON(props)
	}
	var out []string
	for where, text := range places {
		for _, n := range c.needles {
			if strings.Contains(text, n) {
				out = append(out, fmt.Sprintf("%.12s… in %s", n, where))
			}
		}
	}
	_ = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !d.Type().IsRegular() {
			return nil
		}
		if strings.Contains(path, string(filepath.Separator)+".terraform"+string(filepath.Separator)) {
			return nil // provider plugins
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return nil
		}
		for _, n := range c.needles {
			if !strings.Contains(string(data), n) {
				continue
			}
			if byDesign(path) {
				// Owner-only: the file itself or the working directory
				// holding it (Terraform writes its state 0644).
				info, _ := d.Info()
				dir, _ := os.Stat(filepath.Dir(path))
				if info.Mode().Perm()&0o077 != 0 && dir.Mode().Perm()&0o077 != 0 {
					out = append(out, fmt.Sprintf("%s holds a secret with mode %s in a folder with mode %s", path, info.Mode().Perm(), dir.Mode().Perm()))
				}
				continue
			}
			out = append(out, fmt.Sprintf("%.12s… in file %s", n, path))
		}
		return nil
	})
	return out
}

// TestTrialSecretsNeverLeak runs every operation with recognisable fake tokens,
// keys and kubeconfigs in every input that carries a secret, once with
// credentials the API server refuses (the error paths) and, for the
// operations that can complete here, once with working ones: the canaries
// and the admin's key must appear in no log line, error, runtime property,
// return value, report or state file.
func TestTrialSecretsNeverLeak(t *testing.T) {
	cfg := testenv.Config(t)
	ns, _ := chaosNamespace(t, cfg, 1)
	c := newCanaries(t)
	// Operations that complete against this cluster; in the long trials all
	// of them run with working credentials too.
	working := map[string]bool{"kubernetes.apply": true, "chaos_actions.run_http_chaos": true, "chaos_actions.dashboard_token": true,
		"terraform.apply": true, "helm.install": true, "chaos_actions.status": true}
	for _, h := range operations.Registry().Handlers() {
		for _, works := range []bool{false, true} {
			if works && !working[h.Name] && !trial.Long() {
				continue
			}
			name := h.Name + " with refused credentials"
			if works {
				name = h.Name + " with working credentials"
			}
			t.Run(name, func(t *testing.T) {
				if strings.HasPrefix(h.Name, "terraform.") {
					tfbin.Path(t)
				}
				start := time.Now()
				root := t.TempDir()
				inputs := c.secretInputs(t, h.Name, ns, works)
				if strings.HasPrefix(h.Name, "terraform.") {
					inputs["workdir"] = filepath.Join(root, "work", "tf")
				}
				res, state := opRun{Op: h.Name, Deployment: "dep-secrets", Inputs: inputs, Root: root, Resources: blueprintDir(),
					Env: []string{"CHAOSOPS_SECRET_TOKEN=" + c.token}}.run(t, t.Context())
				if works && working[h.Name] && res.Outcome != scriptrunner.Success {
					t.Errorf("the working run failed: %s %s\n%s", res.Outcome, res.Message, chaosLogs(res))
				}
				leaks := c.leaksIn(t, res, state, root)
				for _, l := range leaks {
					t.Errorf("secret leaked: %s", l)
				}
				trial.Record(t, trial.Outcome{Kind: "secrets: canaries in every secret input of every operation", Outcome: string(res.Outcome),
					SecretsFound: len(leaks), Seconds: time.Since(start).Seconds()})
			})
		}
	}
}

// TestTrialSecretsNeverLeakFromLocalRuns installs a blueprint with the local
// runner whose operations take their credentials from get_secret: the
// values must not reach its state directory, events or output.
func TestTrialSecretsNeverLeakFromLocalRuns(t *testing.T) {
	cfg := testenv.Config(t)
	ns := testenv.Namespace(t, cfg)
	c := newCanaries(t)
	root := t.TempDir()
	bp := filepath.Join(root, "bp")
	if err := os.MkdirAll(bp, 0o700); err != nil {
		t.Fatal(err)
	}
	blueprint := fmt.Sprintf(`tosca_definitions_version: cloudify_dsl_1_4
imports:
  - cloudify/types/types.yaml
node_templates:
  config:
    type: cloudify.nodes.Root
    interfaces:
      cloudify.interfaces.lifecycle:
        create:
          implementation: bin/chaosops.sh
          inputs:
            chaosops_operation: kubernetes.apply
            kubeconfig: { get_secret: kubeconfig }
            manifest: |
              apiVersion: v1
              kind: Secret
              metadata: {name: creds, namespace: %s}
              stringData: {token: "{{ .token }}"}
            values: { token: { get_secret: token } }
        delete:
          implementation: bin/chaosops.sh
          inputs:
            chaosops_operation: kubernetes.delete
            kubeconfig: { get_secret: kubeconfig }
  echo:
    type: cloudify.nodes.Root
    interfaces:
      cloudify.interfaces.lifecycle:
        create:
          implementation: bin/chaosops.sh
          inputs:
            chaosops_operation: chaosops.selftest
            echo: { get_secret: token }
`, ns)
	if err := os.WriteFile(filepath.Join(bp, "blueprint.yaml"), []byte(blueprint), 0o600); err != nil {
		t.Fatal(err)
	}
	state := filepath.Join(root, "state")
	var all strings.Builder
	for _, args := range [][]string{
		{"local", "install", filepath.Join(bp, "blueprint.yaml"), "-d", "secrets"},
		{"local", "outputs", "-d", "secrets"},
		{"local", "uninstall", "-d", "secrets"},
	} {
		cmd := exec.CommandContext(t.Context(), chaosbin.Path(t), args...)
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "CHAOSOPS_STATE_DIR="+state, "HOME="+filepath.Join(root, "home"), "CHAOSOPS_WORKDIR="+filepath.Join(root, "work"),
			"CHAOSOPS_SECRET_kubeconfig="+c.working, "CHAOSOPS_SECRET_token="+c.token)
		out, err := cmd.CombinedOutput()
		all.Write(out)
		if err != nil {
			t.Fatalf("chaosops %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	res := &scriptrunner.Result{Stdout: all.String()}
	leaks := c.leaksIn(t, res, nil, root)
	for _, l := range leaks {
		t.Errorf("secret leaked: %s", l)
	}
	trial.Record(t, trial.Outcome{Kind: "secrets: get_secret values through the local runner", Outcome: "installed and uninstalled", SecretsFound: len(leaks)})
}
