package blueprint

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// testCatalog is a small catalog in the shape the CLI builds from the
// operation registry (commands tests lint the same fixtures with the real
// one).
var testCatalog = Catalog{
	Implementations: []string{"bin/chaosops", "bin/chaosops.sh"},
	OperationInput:  "chaosops_operation",
	Operations: map[string]OperationSpec{
		"chaosops.info": {Inputs: []string{"chaosops_operation", "chaosops_timeout"}},
		"kubernetes.apply": {
			Inputs:    []string{"chaosops_operation", "chaosops_timeout", "kubeconfig", "manifest", "files", "namespace", "wait"},
			Resources: map[string]Resource{"files": ResourceFiles},
		},
		"terraform.init": {
			Inputs:    []string{"chaosops_operation", "chaosops_timeout", "module", "module_files", "variables"},
			Defaults:  map[string]string{"module_files": "main.tf,variables.tf,outputs.tf,versions.tf"},
			Resources: map[string]Resource{"module": ResourceTerraformModule},
		},
		"terraform.apply": {
			Inputs:    []string{"chaosops_operation", "chaosops_timeout", "module", "module_files", "variables"},
			Defaults:  map[string]string{"module_files": "main.tf,variables.tf,outputs.tf,versions.tf"},
			Resources: map[string]Resource{"module": ResourceTerraformModule},
		},
		"helm.install": {
			Inputs:    []string{"chaosops_operation", "chaosops_timeout", "chart", "chart_repo", "version"},
			Resources: map[string]Resource{"chart": ResourcePath},
			NameWith:  map[string]string{"chart": "chart_repo"},
		},
		"chaos_actions.run_http_chaos": {
			Inputs: []string{"chaosops_operation", "chaosops_timeout", "kubeconfig", "namespace", "selector", "port", "path", "duration"},
		},
	},
}

// lintLines lints dirs and returns every problem and warning as printed.
func lintLines(t *testing.T, opt LintOptions, dirs ...string) (problems, warnings []string) {
	t.Helper()
	results, err := LintDirs(t.Context(), dirs, opt)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range results {
		for _, p := range r.Problems {
			problems = append(problems, p.Error())
		}
		for _, w := range r.Warnings {
			warnings = append(warnings, w.Error())
		}
	}
	return problems, warnings
}

func TestLintDirsGoodBundle(t *testing.T) {
	dirs := []string{"testdata/lint/good/Env", "testdata/lint/good/App"}
	problems, warnings := lintLines(t, LintOptions{Catalog: testCatalog}, dirs...)
	if len(problems)+len(warnings) > 0 {
		t.Errorf("the good bundle has problems:\n%s\nwarnings:\n%s", strings.Join(problems, "\n"), strings.Join(warnings, "\n"))
	}
}

func TestLintDirsReportsWhatBreaks(t *testing.T) {
	const d = "testdata/lint/"
	cases := []struct {
		name string
		dir  string
		want []string // problems, each a prefix of a printed line, in order
	}{
		{"an unknown operation is named with the closest registered one", "unknown-operation", []string{
			d + `unknown-operation/blueprint.yaml:8: operation cloudify.interfaces.lifecycle.create: "kubernetes.aply" is not an operation of bin/chaosops.sh (did you mean "kubernetes.apply"?`,
		}},
		{"an unknown input names the valid ones", "unknown-input", []string{
			d + `unknown-input/blueprint.yaml:8: operation chaos_actions.run_http_chaos: unknown input "durration" (did you mean "duration"? valid: chaosops_operation, chaosops_timeout, duration, kubeconfig, namespace, path, port, selector)`,
		}},
		{"a get_input of an undeclared input", "undeclared-get-input", []string{
			d + `undeclared-get-input/blueprint.yaml:16: node_templates.chaos.interfaces.chaos_actions.run_http_chaos.inputs.namespace: get_input: input "namespac" is not declared (did you mean "namespace"?`,
		}},
		{"an import that is not there", "missing-import", []string{
			d + `missing-import/blueprint.yaml:4: imports: cannot read ` + d + `missing-import/types/chaosops.yaml: no such file or directory`,
		}},
		{"a DSL version older than the bundle targets", "bad-dsl-version", []string{
			d + `bad-dsl-version/blueprint.yaml:1: tosca_definitions_version: cloudify_dsl_1_3 is older than the bundle targets; write cloudify_dsl_1_4`,
		}},
		{"the URL form of types.yaml with cloudify_dsl_1_4", "url-types-import", []string{
			d + `url-types-import/blueprint.yaml:2: imports: a manager resolves the URL form of types.yaml to its current types.yaml, which needs cloudify_dsl_1_5`,
		}},
		{"an implementation file that is not in the folder", "missing-implementation", []string{
			d + `missing-implementation/blueprint.yaml:8: operation cloudify.interfaces.lifecycle.create: implementation "scripts/setup.sh" is neither a file of the blueprint`,
		}},
		{"a lifecycle operation of the executable that names no operation", "lifecycle-without-operation", []string{
			d + `lifecycle-without-operation/blueprint.yaml:8: operation cloudify.interfaces.lifecycle.create runs bin/chaosops.sh but does not say which operation: give the input chaosops_operation`,
		}},
		{"a file input that the archive will not hold", "missing-resource", []string{
			d + `missing-resource/blueprint.yaml:8: operation cloudify.interfaces.lifecycle.create (kubernetes.apply): input files: manifests/app.yaml is not in the blueprint archive`,
		}},
		{"a terraform module file that module_files leaves behind", "terraform-module", []string{
			d + `terraform-module/blueprint.yaml:8: operation cloudify.interfaces.lifecycle.create (terraform.init): input module: terraform/aks/locals.tf is never fetched: module_files lists only main.tf, variables.tf, outputs.tf, versions.tf`,
		}},
		{"a capability the child blueprint does not export", "capability/Parent", []string{
			d + `capability/Parent/blueprint.yaml:12: outputs.by_attribute.value: get_capability: ` + d + `capability/Child/blueprint.yaml, the blueprint of node child, has no capability "endpoints" (did you mean "endpoint"?`,
			d + `capability/Parent/blueprint.yaml:16: outputs.from_runtime_properties.value: get_attribute: ` + d + `capability/Child/blueprint.yaml, the blueprint of node child, has no capability "url" (valid: endpoint)`,
		}},
		{"an environment capability the deploying blueprint does not export", "environment-capability/Service", []string{
			d + `environment-capability/Service/blueprint.yaml:13: node_templates.app.interfaces.cloudify.interfaces.lifecycle.create.inputs.kubeconfig: get_environment_capability: ` + d + `environment-capability/Env/blueprint.yaml deploys this blueprint but has no capability "kube_config" (did you mean "kubeconfig"?`,
		}},
		{"workflow parameters execute_operation needs but are not declared, and ones it never reads", "workflow-parameters", []string{
			d + `workflow-parameters/blueprint.yaml:12: workflows.RunHTTPChaos.parameters: execute_operation needs node_instance_ids, which the workflow does not declare`,
			d + `workflow-parameters/blueprint.yaml:21: workflows.RunHTTPChaos.parameters.host: execute_operation never reads this parameter`,
		}},
		{"operation_kwargs the operation does not read, or that clash with its inputs", "operation-kwargs", []string{
			d + `operation-kwargs/blueprint.yaml:18: workflows.RunHTTPChaos.parameters.operation_kwargs: "token" is not an input of chaos_actions.run_http_chaos (operation chaos_actions.run_http_chaos of node chaos)`,
			d + `operation-kwargs/blueprint.yaml:28: workflows.OtherNamespace.parameters.operation_kwargs: "namespace" is also an input of operation chaos_actions.run_http_chaos of node chaos, and Cloudify refuses the clash unless allow_kwargs_override defaults to true`,
		}},
		{"a forwarder workflow names its operation and nodes, and forwards only inputs the operation reads", "forwarder", []string{
			d + `forwarder/blueprint.yaml:30: workflows.Typo.parameters.operation_kwargs: "tokn" is not an input of chaos_actions.run_http_chaos (operation chaos_actions.run_http_chaos of node chaos)`,
			d + `forwarder/blueprint.yaml:31: workflows.Typo.parameters.durration: forwarded as an input of chaos_actions.run_http_chaos (operation chaos_actions.run_http_chaos of node chaos), which does not read it (did you mean "duration"? valid: chaosops_operation, chaosops_timeout, duration, kubeconfig, namespace, path, port, selector)`,
			d + `forwarder/blueprint.yaml:35: workflows.NoDefaults.parameters.operation: workflows/forward.py runs the operation this parameter names, so it needs a string default`,
			d + `forwarder/blueprint.yaml:36: workflows.NoDefaults.parameters.node_ids: workflows/forward.py runs the operation on the nodes this parameter lists, so it needs a list default that names them`,
			d + `forwarder/blueprint.yaml:40: workflows.WrongNodes.parameters.operation: node app has no operation "chaos_actions.run_http_chaos", and workflows/forward.py fails on a node without it`,
			d + `forwarder/blueprint.yaml:41: workflows.WrongNodes.parameters.node_ids: node "ghost" does not exist (valid: app, chaos)`,
			d + `forwarder/blueprint.yaml:42: workflows.WrongNodes.parameters.script_path: Cloudify's parser refuses this parameter on a workflow mapped to a script`,
		}},
		{"a forwarder's script that is not in the folder is named", "forwarder-missing-script", []string{
			d + `forwarder-missing-script/blueprint.yaml:7: workflows.RunChaos.mapping: mapping "workflows/forward.py" is neither a file of the blueprint (` + d + `forwarder-missing-script/workflows/forward.py does not exist)`,
		}},
		{"unusable lines of bundle.files", "bundle-files", []string{
			d + `bundle-files/bundle.files:2: SOURCE ../missing-dir: no such file or directory`,
			d + `bundle-files/bundle.files:3: DEST ../outside must be a relative path inside the archive folder`,
			d + `bundle-files/bundle.files:4: expected "SOURCE DEST"`,
			d + `bundle-files/bundle.files:5: DEST bin would replace what make bundle writes (bin/chaosops, bin/chaosops.sh)`,
		}},
		{"a YAML syntax error with its line", "yaml-syntax", []string{
			d + `yaml-syntax/blueprint.yaml:3: YAML syntax: did not find expected key`,
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, _ := lintLines(t, LintOptions{Catalog: testCatalog}, d+tc.dir)
			checkPrefixes(t, got, tc.want)
		})
	}
}

// checkPrefixes wants as many lines as want, each starting with its want.
func checkPrefixes(t *testing.T, got, want []string) {
	t.Helper()
	ok := len(got) == len(want)
	for i := 0; ok && i < len(got); i++ {
		ok = strings.HasPrefix(got[i], want[i])
	}
	if !ok {
		t.Errorf("got:\n%s\nwant (prefixes):\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestLintDirsLayout(t *testing.T) {
	t.Run("an unpacked archive must hold the executable and the copies itself", func(t *testing.T) {
		// As make bundle packs it: the linked types folder copied in.
		app := filepath.Join(t.TempDir(), "App")
		if out, err := exec.Command("cp", "-RL", "testdata/lint/good/App", app).CombinedOutput(); err != nil {
			t.Fatalf("cp -RL: %v: %s", err, out)
		}
		got, _ := lintLines(t, LintOptions{Catalog: testCatalog, Archive: true}, app)
		checkPrefixes(t, got, []string{
			app + `/blueprint.yaml:16: operation cloudify.interfaces.lifecycle.create: implementation "bin/chaosops.sh" is neither a file of the blueprint (` + app + `/bin/chaosops.sh does not exist)`,
			app + `/types/chaosops.yaml:40: operation chaos_actions.run_http_chaos: implementation "bin/chaosops.sh" is neither a file of the blueprint`,
		})
	})

	t.Run("an unpacked archive may not link out of its folder", func(t *testing.T) {
		got, _ := lintLines(t, LintOptions{Catalog: testCatalog, Archive: true}, "testdata/lint/good/App")
		checkPrefixes(t, got, []string{
			`testdata/lint/good/App/blueprint.yaml:7: imports: "types/chaosops.yaml": a symbolic link takes the import out of the blueprint folder`,
			`testdata/lint/good/App/blueprint.yaml:11: node_templates.app.type: "fixture.nodes.Manifests" is not a defined node type`,
		})
	})

	shared := map[string]string{
		"types/chaosops.yaml": `
node_types:
  t.Apply:
    derived_from: cloudify.nodes.Root
    interfaces:
      cloudify.interfaces.lifecycle:
        create:
          implementation: bin/chaosops.sh
          executor: central_deployment_agent
          inputs:
            chaosops_operation: { default: kubernetes.apply }
            wiat: { default: true }
`,
		"A/blueprint.yaml": `
tosca_definitions_version: cloudify_dsl_1_4
imports: [cloudify/types/types.yaml, types/chaosops.yaml]
node_templates:
  a: { type: t.Apply }
  env:
    type: cloudify.nodes.ServiceComponent
    properties:
      resource_config: { blueprint: { external_resource: true, id: Elsewhere } }
`,
		"B/blueprint.yaml": `
tosca_definitions_version: cloudify_dsl_1_4
imports: [cloudify/types/types.yaml, types/chaosops.yaml]
node_templates:
  b: { type: t.Apply }
`,
		"B/bin/chaosops": "#!/bin/sh\n",
	}
	setup := func(t *testing.T) {
		inDir(t, shared)
		for _, d := range []string{"A", "B"} {
			if err := os.Symlink("../types", filepath.Join(d, "types")); err != nil {
				t.Fatal(err)
			}
		}
	}

	t.Run("a problem of the shared types file is reported once, through the first blueprint", func(t *testing.T) {
		setup(t)
		results, _ := LintDirs(t.Context(), []string{"A", "B"}, LintOptions{Catalog: testCatalog})
		var got []string
		for _, r := range results {
			for _, p := range r.Problems {
				got = append(got, p.Error())
			}
		}
		checkPrefixes(t, got, []string{
			`A/types/chaosops.yaml:6: operation cloudify.interfaces.lifecycle.create (kubernetes.apply): unknown input "wiat" (did you mean "wait"?`,
			`B/bin/chaosops: make bundle writes this file into the archive; remove it from the blueprint folder`,
		})
		if len(results[1].Problems) != 1 {
			t.Errorf("B: %v, want only the bin/chaosops problem", results[1].Problems)
		}
	})

	t.Run("a component whose blueprint is not a folder next to this one is a warning", func(t *testing.T) {
		setup(t)
		_, warnings := lintLines(t, LintOptions{Catalog: testCatalog}, "A")
		checkPrefixes(t, warnings, []string{
			`A/blueprint.yaml:5: node_templates.env: blueprint "Elsewhere" is not a folder next to this one`,
		})
	})
}

func TestLintChartIsANameWithChartRepo(t *testing.T) {
	for _, tc := range []struct {
		name, repo string
		want       []string
	}{
		{"with chart_repo, chart names a chart of the repository, not a file", "https://charts.example.com", nil},
		{"without chart_repo, chart is a path the archive must hold", "", []string{
			"blueprint.yaml:8: operation cloudify.interfaces.lifecycle.create (helm.install): input chart: chaos-mesh is not in the blueprint archive"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			bp := `tosca_definitions_version: cloudify_dsl_1_4
imports: [cloudify/types/types.yaml]
node_templates:
  chaos_mesh:
    type: cloudify.nodes.Root
    interfaces:
      cloudify.interfaces.lifecycle:
        create:
          implementation: bin/chaosops.sh
          executor: central_deployment_agent
          inputs:
            chaosops_operation: helm.install
            chart: chaos-mesh
            chart_repo: "` + tc.repo + `"
            version: 2.8.3
`
			if err := os.WriteFile(filepath.Join(dir, "blueprint.yaml"), []byte(bp), 0o644); err != nil {
				t.Fatal(err)
			}
			got, _ := lintLines(t, LintOptions{Catalog: testCatalog}, dir)
			for i := range tc.want {
				tc.want[i] = filepath.Join(dir, tc.want[i])
			}
			checkPrefixes(t, got, tc.want)
		})
	}
}
