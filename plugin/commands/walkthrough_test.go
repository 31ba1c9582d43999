package commands_test

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"gopkg.in/yaml.v3"

	"github.com/cloudify-chaos/chaosops/plugin/blueprint"
	"github.com/cloudify-chaos/chaosops/plugin/cloudify/operation"
	"github.com/cloudify-chaos/chaosops/plugin/operations"
)

// TestWalkthroughMatchesTheBundle reads the commands of README.md's
// "Deploy on a real manager" and checks each against the bundle, since no
// manager runs here: every blueprint is uploaded under the id its parent
// names, every secret the bundle reads is created (and no other), the
// deployment inputs exist, each workflow exists on the deployment it is
// started on, its operation_kwargs keys are inputs of its operation, and
// the Grafana Service the port-forward names is in kube-prometheus.
func TestWalkthroughMatchesTheBundle(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(repoRoot(), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	section := string(b)
	i := strings.Index(section, "\n## Deploy on a real manager\n")
	if i < 0 {
		t.Fatal(`README.md has no section "## Deploy on a real manager"`)
	}
	section = section[i+1:]
	if j := strings.Index(section[3:], "\n## "); j >= 0 {
		section = section[:j+3]
	}
	cmds := shellLines(section)
	if len(cmds) < 10 {
		t.Fatalf("found %d commands in the walkthrough: %q", len(cmds), cmds)
	}

	bundle := map[string]*blueprint.Blueprint{}
	for _, name := range bundleOrder {
		bundle[name] = loadBundled(t, name)
	}
	reg := operations.Registry()
	deployments := map[string]*blueprint.Blueprint{} // deployment id → its blueprint
	uploaded := map[string]bool{}
	secrets := map[string]bool{}
	groups := map[string][]string{} // deployment group → its deployments

	for _, c := range cmds {
		args := shellWords(t, c)
		switch {
		case len(args) == 2 && args[0] == "make":
			if !makeTarget(t, args[1]) {
				t.Errorf("%s: the Makefile has no target %s", c, args[1])
			}
		case strings.HasPrefix(c, "cfy secrets create "):
			secrets[args[3]] = true
		case strings.HasPrefix(c, "cfy blueprint upload "):
			id := flagValue(args, "-b")
			if bundle[id] == nil || args[3] != "dist/"+id+".tar.gz" {
				t.Errorf("%s: upload dist/ID.tar.gz -b ID with ID one of %v", c, bundleOrder)
			}
			uploaded[id] = true
		case strings.HasPrefix(c, "cfy deployments create "):
			bp := bundle[flagValue(args, "-b")]
			if bp == nil || !uploaded[flagValue(args, "-b")] {
				t.Errorf("%s: the blueprint is not one uploaded before", c)
				continue
			}
			dep := args[len(args)-1]
			for _, a := range args[3:] {
				if !strings.HasPrefix(a, "-") && a != flagValue(args, "-b") && !strings.Contains(a, "=") {
					dep = a
				}
			}
			for _, in := range flagValues(args, "-i") {
				name, value, _ := strings.Cut(in, "=")
				decl := bp.Inputs[name]
				if decl == nil {
					t.Errorf("%s: %s has no input %s", c, bp.MainFile, name)
					continue
				}
				var v any
				if err := yaml.Unmarshal([]byte(value), &v); err != nil {
					t.Errorf("%s: input %s is not YAML: %v", c, name, err)
				}
				checkClusterInputs(t, c, name, v, bundle, bp)
			}
			deployments[dep] = bp
			for id, child := range components(t, bp, dep) {
				deployments[id] = bundle[child]
			}
		case strings.HasPrefix(c, "cfy executions start "):
			checkStart(t, c, deployments[flagValue(args, "-d")], args[3], flagValues(args, "-p"), reg)
		case strings.HasPrefix(c, "cfy deployments groups create "):
			groups[args[4]] = nil
		case strings.HasPrefix(c, "cfy deployments groups extend "):
			dep := flagValue(args, "-d")
			if _, ok := groups[args[4]]; !ok || deployments[dep] == nil {
				t.Errorf("%s: extend a group created before with a deployment created before", c)
			}
			groups[args[4]] = append(groups[args[4]], dep)
		case strings.HasPrefix(c, "cfy executions groups start "):
			members := groups[flagValue(args, "-g")]
			if len(members) == 0 {
				t.Errorf("%s: group %s has no deployments", c, flagValue(args, "-g"))
			}
			for _, dep := range members {
				checkStart(t, c, deployments[dep], args[4], flagValues(args, "-p"), reg)
			}
		case strings.HasPrefix(c, "cfy executions groups set-success-group "), strings.HasPrefix(c, "cfy executions groups set-failure-group "):
			if _, ok := groups[args[5]]; !ok || args[4] != "EXECUTION_GROUP_ID" {
				t.Errorf("%s: give the execution group's id, then a deployment group created before", c)
			}
		case strings.HasPrefix(c, "cfy deployments schedule enable "), strings.HasPrefix(c, "cfy deployments schedule list "):
			bp := deployments[args[4]]
			if bp == nil {
				t.Errorf("%s: no deployment %s was created", c, args[4])
			} else if len(args) > 5 && bp.DefaultSchedules[args[5]] == nil {
				t.Errorf("%s: %s has no default schedule %s", c, filepath.Base(bp.Dir), args[5])
			}
		case strings.HasPrefix(c, "cfy deployments schedule create "):
			checkStart(t, c, deployments[args[4]], args[5], flagValues(args, "-p"), reg)
		case strings.HasPrefix(c, "cfy deployments "):
			if dep := args[len(args)-1]; deployments[dep] == nil {
				t.Errorf("%s: no deployment %s was created", c, dep)
			}
		case strings.HasPrefix(c, "kubectl ") && strings.Contains(c, "port-forward svc/grafana"):
			checkGrafanaService(t, c, flagValue(args, "-n"))
		default:
			t.Errorf("the walkthrough command %q is not checked by this test; teach it", c)
		}
	}

	if diff := cmp.Diff(bundleSecrets(bundle), secrets); diff != "" {
		t.Errorf("secrets the walkthrough creates vs the ones the bundle reads (-bundle +README):\n%s", diff)
	}
	for _, id := range bundleOrder {
		if !uploaded[id] {
			t.Errorf("the walkthrough never uploads %s", id)
		}
	}
}

// shellLines returns the command lines of the section's sh code blocks.
func shellLines(md string) []string {
	var out []string
	in := false
	for _, line := range strings.Split(md, "\n") {
		switch {
		case strings.HasPrefix(line, "```sh"):
			in = true
		case strings.HasPrefix(line, "```"):
			in = false
		case in && strings.TrimSpace(line) != "" && !strings.HasPrefix(strings.TrimSpace(line), "#"):
			out = append(out, strings.TrimSpace(line))
		}
	}
	return out
}

// shellWords splits a command line as sh would for the quoting the
// walkthrough uses (single and double quotes, no escapes).
func shellWords(t *testing.T, line string) []string {
	var words []string
	var cur strings.Builder
	quote, inWord := rune(0), false
	for _, r := range line {
		switch {
		case quote != 0 && r == quote:
			quote = 0
		case quote != 0:
			cur.WriteRune(r)
		case r == '\'' || r == '"':
			quote, inWord = r, true
		case r == ' ' || r == '\t':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if quote != 0 {
		t.Fatalf("unbalanced quote in %q", line)
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words
}

func flagValues(args []string, flag string) []string {
	var out []string
	for i := 0; i+1 < len(args); i++ {
		if args[i] == flag {
			out = append(out, args[i+1])
		}
	}
	return out
}

func flagValue(args []string, flag string) string {
	v := flagValues(args, flag)
	if len(v) == 0 {
		return ""
	}
	return v[0]
}

func makeTarget(t *testing.T, target string) bool {
	b, err := os.ReadFile(filepath.Join(repoRoot(), "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	return regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(target) + `:`).Match(b)
}

// checkClusterInputs checks the keys of a dict input that a parent passes
// to its cluster component (cluster_inputs) against the cluster blueprint.
func checkClusterInputs(t *testing.T, c, name string, v any, bundle map[string]*blueprint.Blueprint, bp *blueprint.Blueprint) {
	t.Helper()
	if name != "cluster_inputs" {
		return
	}
	cluster, _ := bp.Inputs["cluster_blueprint"].Default.(string)
	child := bundle[cluster]
	if child == nil {
		t.Errorf("%s: cluster_blueprint defaults to %q, not a bundled blueprint", c, cluster)
		return
	}
	m, _ := v.(map[string]any)
	for k := range m {
		if child.Inputs[k] == nil {
			t.Errorf("%s: cluster_inputs key %s is not an input of %s", c, k, cluster)
		}
	}
}

// components maps the child deployment ids a parent's ServiceComponents
// create, for a deployment dep of it, to their blueprint ids.
func components(t *testing.T, bp *blueprint.Blueprint, dep string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for name, n := range bp.Nodes {
		if n.Type != "cloudify.nodes.ServiceComponent" {
			continue
		}
		rc, _ := n.Properties["resource_config"].(map[string]any)
		bpc, _ := rc["blueprint"].(map[string]any)
		depc, _ := rc["deployment"].(map[string]any)
		id := literalOrInputDefault(bp, bpc["id"])
		concat, _ := depc["id"].(map[string]any)["concat"].([]any)
		if len(concat) != 2 || id == "" {
			t.Fatalf("%s: component %s names its blueprint or deployment in a way this test does not know: %v %v", bp.MainFile, name, bpc["id"], depc["id"])
		}
		suffix, _ := concat[1].(string)
		out[dep+suffix] = id
	}
	return out
}

func literalOrInputDefault(bp *blueprint.Blueprint, v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	if m, ok := v.(map[string]any); ok {
		if in, ok := m["get_input"].(string); ok && bp.Inputs[in] != nil {
			s, _ := bp.Inputs[in].Default.(string)
			return s
		}
	}
	return ""
}

// bundleSecrets lists the secrets the bundle reads: get_secret of a name,
// or of an input, through that input's default.
func bundleSecrets(bundle map[string]*blueprint.Blueprint) map[string]bool {
	out := map[string]bool{}
	for _, bp := range bundle {
		var walk func(v any)
		walk = func(v any) {
			switch x := v.(type) {
			case map[string]any:
				if s, ok := x["get_secret"]; ok {
					if name := literalOrInputDefault(bp, s); name != "" {
						out[name] = true
					}
				}
				for _, e := range x {
					walk(e)
				}
			case []any:
				for _, e := range x {
					walk(e)
				}
			}
		}
		for _, n := range bp.Nodes {
			walk(n.Properties)
		}
	}
	return out
}

// checkGrafanaService checks that kube-prometheus, as pinned, has a Service
// grafana in ns, and that the fixture standing in for it does too.
func checkGrafanaService(t *testing.T, c, ns string) {
	t.Helper()
	release, err := os.ReadFile(filepath.Join(repoRoot(), "manifests", "kube-prometheus", "release.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if ns != "monitoring" || !strings.Contains(string(release), "/manifests/grafana-service.yaml") {
		t.Errorf("%s: the pinned kube-prometheus release has no grafana-service.yaml in namespace monitoring", c)
	}
	fixture, err := os.ReadFile(filepath.Join(repoRoot(), "manifests", "kube-prometheus", "fixture", "main.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`(?s)kind: Service\n.*?name: grafana\n`).Match(fixture) {
		t.Errorf("%s: the kube-prometheus fixture has no Service grafana", c)
	}
}

func hasInput(ins []operation.Input, name string) bool {
	for _, in := range ins {
		if in.Name == name {
			return true
		}
	}
	return false
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// checkStart checks cfy executions start WORKFLOW on a deployment of bp
// with -p params as the manager would: the workflow exists, the values
// meet their types and constraints, and each value reaches an input the
// operation reads (the typed parameters of a forwarder workflow, the keys
// of operation_kwargs).
func checkStart(t *testing.T, c string, bp *blueprint.Blueprint, workflow string, params []string, reg *operation.Registry) {
	t.Helper()
	if bp == nil {
		t.Errorf("%s: the deployment was not created before", c)
		return
	}
	w := bp.Workflows[workflow]
	if w == nil {
		t.Errorf("%s: %s has no workflow %s", c, filepath.Base(bp.Dir), workflow)
		return
	}
	given := map[string]any{}
	for _, p := range params {
		name, value, _ := strings.Cut(p, "=")
		given[name] = value
		if name == "operation_kwargs" {
			var kwargs map[string]any
			if err := yaml.Unmarshal([]byte(value), &kwargs); err != nil {
				t.Errorf("%s: operation_kwargs is not a YAML mapping: %v", c, err)
			}
			given[name] = kwargs
		}
	}
	resolved, err := w.ResolveParameters(given)
	if err != nil {
		t.Errorf("%s: %v", c, err)
		return
	}
	op, _ := resolved["operation"].(string)
	if w.Builtin && op == "" {
		return // install, uninstall
	}
	h, err := reg.Lookup(op)
	if err != nil {
		t.Errorf("%s: workflow %s runs %q: %v", c, workflow, op, err)
		return
	}
	reads := func(k string) {
		if !hasInput(h.Inputs, k) {
			t.Errorf("%s: %s reads no input %s", c, op, k)
		}
	}
	for k := range given {
		if w.Forwards && !slices.Contains([]string{"operation", "node_ids", "operation_kwargs"}, k) {
			reads(k)
		}
	}
	kwargs, _ := resolved["operation_kwargs"].(map[string]any)
	for k := range kwargs {
		reads(k)
	}
}
