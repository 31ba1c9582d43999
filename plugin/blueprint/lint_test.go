package blueprint

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestLint(t *testing.T) {
	t.Run("the full blueprint only has unused inputs and an implicit executor", func(t *testing.T) {
		var got []string
		for _, e := range loadFull(t).Lint() {
			got = append(got, e.Error())
		}
		want := []string{
			fullMain + ":36: inputs.tags: declared but no get_input uses it",
			fullMain + ":40: inputs.verbose: declared but no get_input uses it",
			fullMain + ":52: operation cloudify.interfaces.lifecycle.start: runs scripts/probe.sh with executor auto; write executor: central_deployment_agent so that it runs on the manager",
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Error(diff)
		}
	})

	t.Run("likely mistakes are reported with positions", func(t *testing.T) {
		inDir(t, map[string]string{
			"run.py": "print('hi')\n",
			"blueprint.yaml": `
tosca_definitions_version: cloudify_dsl_1_5
imports: [https://cloudify.co/spec/cloudify/7.0.0/types.yaml]
node_templates:
  vm:
    type: cloudify.nodes.Compute
    properties:
      ip: {get_secrets: vm_ip}
workflows:
  py: run.py
  chaos:
    mapping: default_workflows.cloudify.plugins.workflows.execute_operation
    parameters:
      operation: {default: chaos_actions.run}
      node_ids: {default: [vm, ghost]}
      extra: {default: {get_input: x}}
      empty: {default: {get_input: []}}
outputs:
  nothing: {value: {concat: []}}
`,
		})
		bp, err := Load("blueprint.yaml")
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, e := range bp.Lint() {
			got = append(got, e.Error())
		}
		want := []string{
			`blueprint.yaml:2: imports: the URL form of types.yaml depends on the manager's import resolver`,
			`blueprint.yaml:4: node_templates.vm: cloudify.nodes.Compute needs a host with an agent; chaosops local creates no hosts`,
			`blueprint.yaml:7: node_templates.vm.properties.ip: "get_secrets" is not an intrinsic function, so this mapping is kept as data (did you mean "get_secret"?`,
			`blueprint.yaml:9: workflows.py: a script mapping is run as Python by the manager`,
			`blueprint.yaml:13: workflows.chaos.parameters.operation: no node of vm, ghost has operation "chaos_actions.run"`,
			`blueprint.yaml:14: workflows.chaos.parameters.node_ids: node "ghost" does not exist`,
			`blueprint.yaml:15: workflows.chaos.parameters.extra.default: get_input is never evaluated here`,
			`blueprint.yaml:16: workflows.chaos.parameters.empty.default: get_input is never evaluated here`,
		}
		ok := len(got) == len(want)
		for i := 0; ok && i < len(got); i++ {
			ok = strings.HasPrefix(got[i], want[i])
		}
		if !ok {
			t.Errorf("lint:\n%s\nwant (prefixes):\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	})
}
