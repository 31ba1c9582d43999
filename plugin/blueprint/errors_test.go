package blueprint

import (
	"testing"
)

// header is the first two lines of every inline blueprint below, so that
// the case's own text starts at line 3.
const header = "tosca_definitions_version: cloudify_dsl_1_4\nimports: [cloudify/types/types.yaml]\n"

func TestLoadReportsProblemsWithPositions(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string // blueprint.yaml gets the header unless raw
		raw   bool
		want  []string // prefixes of the error lines, in order
	}{
		{
			name: "an unsupported section with content names the file, line and construct",
			files: map[string]string{"blueprint.yaml": `
policies:
  scale: {type: cloudify.policies.scaling}
`},
			want: []string{`blueprint.yaml:3: "policies" is not supported by chaosops local (supported: blueprint_labels, capabilities, deployment_settings, description,`},
		},
		{
			name: "plugins and data_types sections are unsupported",
			files: map[string]string{"blueprint.yaml": `
plugins:
  p: {executor: central_deployment_agent}
data_types:
  d: {properties: {a: {}}}
`},
			want: []string{
				`blueprint.yaml:3: "plugins" is not supported by chaosops local`,
				`blueprint.yaml:5: "data_types" is not supported by chaosops local`,
			},
		},
		{
			name: "an unknown top-level key is reported with the closest valid one",
			files: map[string]string{"blueprint.yaml": `
node_template:
  a: {type: cloudify.nodes.Root}
`},
			want: []string{`blueprint.yaml:3: unknown top-level key "node_template" (did you mean "node_templates"?`},
		},
		{
			name:  "a missing tosca_definitions_version is reported at the top",
			raw:   true,
			files: map[string]string{"blueprint.yaml": "node_templates: {}\n"},
			want:  []string{`blueprint.yaml:1: tosca_definitions_version is missing: start the blueprint with "tosca_definitions_version: cloudify_dsl_1_4"`},
		},
		{
			name:  "an unknown DSL version is reported on its line",
			raw:   true,
			files: map[string]string{"blueprint.yaml": "# an old blueprint\ntosca_definitions_version: cloudify_dsl_1_0\n"},
			want:  []string{`blueprint.yaml:2: tosca_definitions_version: "cloudify_dsl_1_0" is not supported (supported: cloudify_dsl_1_3, cloudify_dsl_1_4, cloudify_dsl_1_5)`},
		},
		{
			name: "plugin, remote and namespaced imports are refused",
			raw:  true,
			files: map[string]string{"blueprint.yaml": `
tosca_definitions_version: cloudify_dsl_1_4
imports:
  - plugin:cloudify-utilities-plugin
  - https://example.com/other.yaml
  - ns--other.yaml
`},
			want: []string{
				`blueprint.yaml:3: imports: "plugin:cloudify-utilities-plugin": plugin imports are not supported by the local runner`,
				`blueprint.yaml:4: imports: "https://example.com/other.yaml": remote imports are not supported`,
				`blueprint.yaml:5: imports: "ns--other.yaml": namespaced imports`,
			},
		},
		{
			name:  "a missing local import is reported where it is imported",
			files: map[string]string{"blueprint.yaml": "imports: [missing.yaml]\n"},
			raw:   true,
			want: []string{
				`blueprint.yaml:1: tosca_definitions_version is missing`,
				`blueprint.yaml:1: imports: cannot read missing.yaml: no such file or directory`,
			},
		},
		{
			name: "a typo in a node template key is reported on its line",
			files: map[string]string{"blueprint.yaml": `
node_templates:
  web:
    type: cloudify.nodes.Root
    propertes: {}
`},
			want: []string{`blueprint.yaml:6: node_templates.web: unknown key "propertes" (did you mean "properties"?`},
		},
		{
			name: "an unknown node type is reported at the type",
			files: map[string]string{"blueprint.yaml": `
node_templates:
  web:
    type: cloudify.nodes.WebServr
`},
			want: []string{`blueprint.yaml:5: node_templates.web.type: "cloudify.nodes.WebServr" is not a defined node type (did you mean "cloudify.nodes.WebServer"?`},
		},
		{
			name: "a built-in type without the types.yaml import says what to import",
			raw:  true,
			files: map[string]string{"blueprint.yaml": `
tosca_definitions_version: cloudify_dsl_1_4
node_templates:
  web: {type: cloudify.nodes.Root}
`},
			want: []string{`blueprint.yaml:3: node_templates.web.type: "cloudify.nodes.Root" is not a defined node type (import cloudify/types/types.yaml for the built-in types)`},
		},
		{
			name: "unknown relationship targets and types, and self targets, are reported",
			files: map[string]string{"blueprint.yaml": `
node_templates:
  a:
    type: cloudify.nodes.Root
    relationships:
      - {type: cloudify.relationships.depends_on, target: bb}
      - {type: cloudify.relationships.dependson, target: b}
      - {type: cloudify.relationships.depends_on, target: a}
      - {target: b}
  b: {type: cloudify.nodes.Root}
`},
			want: []string{
				`blueprint.yaml:7: node_templates.a.relationships[0].target: node "bb" does not exist (did you mean "b"?`,
				`blueprint.yaml:8: node_templates.a.relationships[1].type: "cloudify.relationships.dependson" is not a defined relationship type (did you mean "cloudify.relationships.depends_on"?`,
				`blueprint.yaml:9: node_templates.a.relationships[2].target: a node cannot have a relationship to itself`,
				`blueprint.yaml:10: node_templates.a.relationships[3]: type is missing`,
			},
		},
		{
			name: "a node can be contained in one node only",
			files: map[string]string{"blueprint.yaml": `
node_templates:
  a:
    type: cloudify.nodes.Root
    relationships:
      - {type: cloudify.relationships.contained_in, target: b}
      - {type: cloudify.relationships.contained_in, target: c}
  b: {type: cloudify.nodes.Root}
  c: {type: cloudify.nodes.Root}
`},
			want: []string{`blueprint.yaml:4: node_templates.a: a node can be contained in one node only, found b, c`},
		},
		{
			name: "properties are checked against the type's schema",
			files: map[string]string{"blueprint.yaml": `
node_types:
  t:
    derived_from: cloudify.nodes.Root
    properties:
      port: {type: integer}
      name: {type: string, default: x}
node_templates:
  a:
    type: t
    properties:
      prot: 1
      name: 5
`},
			want: []string{
				`blueprint.yaml:10: node_templates.a: property "port" is required by node type t and has no default: give it under properties`,
				`blueprint.yaml:13: node_templates.a.properties: "prot" is not a property of node type t (did you mean "port"?`,
				`blueprint.yaml:14: node_templates.a.properties.name: 5 is not a string (the type says string)`,
			},
		},
		{
			name: "derived_from must name a defined type without cycles",
			files: map[string]string{"blueprint.yaml": `
node_types:
  a: {derived_from: b}
  b: {derived_from: a}
  c: {derived_from: nothing}
relationships:
  r: {derived_from: r}
`},
			want: []string{
				`blueprint.yaml:4: node_types.a.derived_from: the node type hierarchy has a cycle: a -> b -> a`,
				`blueprint.yaml:5: node_types.b.derived_from: the node type hierarchy has a cycle: b -> a -> b`,
				`blueprint.yaml:6: node_types.c.derived_from: "nothing" is not a defined node type`,
				`blueprint.yaml:8: relationships.r.derived_from: the relationship type hierarchy has a cycle: r -> r`,
			},
		},
		{
			name: "operations are checked: files, executors, script_path, missing inputs",
			files: map[string]string{
				"bin/tool": "#!/bin/sh\n",
				"blueprint.yaml": `
node_types:
  t:
    derived_from: cloudify.nodes.Root
    interfaces:
      chaos:
        run:
          implementation: bin/tool
          inputs:
            NEEDED: {type: string}
            PLAIN: 5
node_templates:
  a:
    type: t
    interfaces:
      cloudify.interfaces.lifecycle:
        create: bin/missing
        configure:
          implementation: bin/tool
          executor: agent
          inputs: {script_path: bin/tool}
        start: ../outside.sh
        stop: foo.tasks.run
`},
			want: []string{
				`blueprint.yaml:12: node_types.t.interfaces.chaos.run.inputs.PLAIN: inputs of a type's operation are declarations: write {default: 5}`,
				`blueprint.yaml:14: node_templates.a.interfaces.chaos.run: input "NEEDED" is missing a value (declared without default at blueprint.yaml:11)`,
				`blueprint.yaml:14: node_templates.a.interfaces.chaos.run: input "PLAIN" is missing a value (declared without default at blueprint.yaml:12)`,
				`blueprint.yaml:18: operation cloudify.interfaces.lifecycle.create: implementation "bin/missing" is neither a file of the blueprint (bin/missing does not exist) nor a task of a built-in plugin (script, default_workflows, cfy_extensions)`,
				`blueprint.yaml:19: operation cloudify.interfaces.lifecycle.configure: input "script_path" is set by the script plugin from the implementation; remove it`,
				`blueprint.yaml:21: node_templates.a.interfaces.cloudify.interfaces.lifecycle.configure.executor: "agent" is not an executor`,
				`blueprint.yaml:23: operation cloudify.interfaces.lifecycle.start: implementation "../outside.sh" must be a relative path inside the blueprint directory`,
				`blueprint.yaml:24: operation cloudify.interfaces.lifecycle.stop: implementation "foo.tasks.run" is neither a file`,
			},
		},
		{
			name: "functions must refer to declared inputs and existing nodes and properties",
			files: map[string]string{"blueprint.yaml": `
inputs:
  url: {default: {get_input: other}}
node_templates:
  a:
    type: cloudify.nodes.WebServer
    properties:
      port: {get_input: prt}
  b:
    type: cloudify.nodes.WebServer
    properties:
      port: {get_property: [c, port]}
outputs:
  o1: {value: {get_property: [a, prot]}}
  o2: {value: {get_attribute: [SELF, ip]}}
  o3: {value: {get_property: a}}
`},
			want: []string{
				`blueprint.yaml:4: inputs.url.default: get_input cannot be used in an input's declaration`,
				`blueprint.yaml:9: node_templates.a.properties.port: get_input: input "prt" is not declared`,
				`blueprint.yaml:13: node_templates.b.properties.port: get_property: node "c" does not exist`,
				`blueprint.yaml:15: outputs.o1.value: get_property: node "a" has no property "prot" (did you mean "port"?`,
				`blueprint.yaml:16: outputs.o2.value: get_attribute: SELF can only be used in node properties and operations`,
				`blueprint.yaml:17: outputs.o3.value: get_property: expected a list [SELF|<node>, name, key...], got "a"`,
			},
		},
		{
			name: "SOURCE and TARGET only work in relationship operations",
			files: map[string]string{"blueprint.yaml": `
node_templates:
  a:
    type: cloudify.nodes.Root
    interfaces:
      cloudify.interfaces.lifecycle:
        create:
          inputs: {X: {get_attribute: [TARGET, ip]}}
    relationships:
      - type: cloudify.relationships.connected_to
        target: b
        source_interfaces:
          cloudify.interfaces.relationship_lifecycle:
            establish:
              inputs: {Y: {get_attribute: [SELF, ip]}}
  b: {type: cloudify.nodes.Root}
`},
			want: []string{
				`blueprint.yaml:9: node_templates.a.interfaces.cloudify.interfaces.lifecycle.create.inputs.X: get_attribute: TARGET can only be used in relationship operations`,
				`blueprint.yaml:16: node_templates.a.relationships[0].source_interfaces.cloudify.interfaces.relationship_lifecycle.establish.inputs.Y: get_attribute: SELF has no meaning in a relationship operation; use SOURCE or TARGET`,
			},
		},
		{
			name: "input declarations are checked: defaults, constraints and version-bound types",
			files: map[string]string{"blueprint.yaml": `
inputs:
  port:
    type: integer
    default: 70000
    constraints:
      - in_range: [1, 65535]
  op: {type: operation_name}
  mode:
    type: string
    constraints:
      - one_of: [a]
      - tenants: [t]
      - pattern: "(?=x)"
  bad: {typ: string}
`},
			want: []string{
				`blueprint.yaml:4: inputs.port: the default 70000 is not in range [1, 65535]`,
				`blueprint.yaml:9: inputs.op.type: type "operation_name" needs tosca_definitions_version cloudify_dsl_1_5 (this blueprint is cloudify_dsl_1_4)`,
				`blueprint.yaml:13: inputs.mode.constraints[0]: unknown constraint "one_of"`,
				`blueprint.yaml:14: inputs.mode.constraints[1]: constraint "tenants" queries a Cloudify manager and is not supported by chaosops local`,
				`blueprint.yaml:15: inputs.mode.constraints[2]: pattern: "(?=x)" is not a regular expression Go (RE2) accepts`,
				`blueprint.yaml:16: inputs.bad: unknown key "typ" (did you mean "type"?`,
			},
		},
		{
			name:  "YAML syntax errors carry their line",
			files: map[string]string{"blueprint.yaml": "node_templates:\n  a: [\n"},
			want:  []string{`blueprint.yaml:4: YAML syntax: did not find expected node content`},
		},
		{
			name: "a repeated mapping key is reported with the first one's line",
			files: map[string]string{"blueprint.yaml": `
node_templates:
  a: {type: cloudify.nodes.Root}
  a: {type: cloudify.nodes.Root}
`},
			want: []string{`blueprint.yaml:5: node_templates: key "a" is repeated (first at line 4)`},
		},
		{
			name: "relationship cycles are named",
			files: map[string]string{"blueprint.yaml": `
node_templates:
  a:
    type: cloudify.nodes.Root
    relationships: [{type: cloudify.relationships.depends_on, target: b}]
  b:
    type: cloudify.nodes.Root
    relationships: [{type: cloudify.relationships.depends_on, target: c}]
  c:
    type: cloudify.nodes.Root
    relationships: [{type: cloudify.relationships.connected_to, target: a}]
`},
			want: []string{`blueprint.yaml:4: node_templates.a.relationships: the relationships form a cycle: a -> b -> c -> a`},
		},
		{
			name: "workflows need a mapping Cloudify can run",
			files: map[string]string{"blueprint.yaml": `
workflows:
  w1: {parameters: {}}
  w2: my_plugin.workflows.run
  install: default_workflows.cloudify.plugins.workflows.install
`},
			want: []string{
				`blueprint.yaml:4: workflows.w1: mapping is missing`,
				`blueprint.yaml:5: workflows.w2.mapping: mapping "my_plugin.workflows.run" is neither a file`,
				`blueprint.yaml:6: workflow "install" is already defined by cloudify/types/types.yaml`,
			},
		},
		{
			name: "scaling capabilities must be consistent and not mixed with instances",
			files: map[string]string{"blueprint.yaml": `
node_templates:
  a:
    type: cloudify.nodes.Root
    capabilities:
      scalable:
        properties: {default_instances: 5, max_instances: 3}
  b:
    type: cloudify.nodes.Root
    instances: {deploy: 2}
    capabilities:
      scalable: {properties: {default_instances: 2}}
`},
			want: []string{
				`blueprint.yaml:7: node_templates.a.capabilities.scalable.properties: need 0 <= min_instances (0) <= default_instances (5) <= max_instances (3, -1 = no limit)`,
				`blueprint.yaml:13: node_templates.b: instances.deploy (deprecated) and capabilities.scalable cannot both be given`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files := map[string]string{}
			for name, text := range tt.files {
				if name == "blueprint.yaml" && !tt.raw {
					text = header + text[1:]
				}
				files[name] = text
			}
			inDir(t, files)
			_, err := Load("blueprint.yaml")
			checkErrorLines(t, err, tt.want)
		})
	}
}
