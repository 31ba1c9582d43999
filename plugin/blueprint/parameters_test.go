package blueprint

import (
	"strings"
	"testing"
)

// header13 starts an inline blueprint of the oldest DSL version Load reads.
const header13 = "tosca_definitions_version: cloudify_dsl_1_3\nimports: [cloudify/types/types.yaml]\n"

// TestLoadChecksDeclarations holds the rules dsl_parser applies to inputs,
// workflow parameters and availability rules (shared/cloudify-compat.md 9).
func TestLoadChecksDeclarations(t *testing.T) {
	tests := []struct {
		name   string
		header string // header (cloudify_dsl_1_4) unless set
		text   string
		want   []string // prefixes of the error lines, in order; none: loads
	}{
		{
			name: "textarea and regex need no DSL version, the 1_4 object types need 1_4",
			text: `
inputs:
  notes: {type: textarea, default: "a\nb"}
  match: {type: regex, default: "^a+$"}
  node: {type: node_id, default: app}
node_templates:
  app: {type: cloudify.nodes.Root, properties: {}}
workflows:
  w:
    mapping: default_workflows.cloudify.plugins.workflows.execute_operation
    parameters:
      manifest: {type: textarea, default: ""}
      group: {type: scaling_group, required: false}
      ids: {type: list, item_type: node_instance, default: []}
`,
		},
		{
			name:   "the 1_4 object types in a 1_3 blueprint name the version they need",
			header: header13,
			text: `
inputs:
  dep: {type: deployment_id, default: d}
  secret: {type: secret_key, default: s}
  notes: {type: textarea, default: ""}
node_templates:
  app: {type: cloudify.nodes.Root, properties: {}}
`,
			want: []string{
				`blueprint.yaml:4: inputs.dep.type: type "deployment_id" needs tosca_definitions_version cloudify_dsl_1_4 (this blueprint is cloudify_dsl_1_3)`,
				`blueprint.yaml:5: inputs.secret.type: type "secret_key" needs tosca_definitions_version cloudify_dsl_1_4`,
			},
		},
		{
			name: "operation_name needs 1_5, on inputs and on parameters alike",
			text: `
inputs:
  op: {type: operation_name, default: a.b}
workflows:
  w:
    mapping: default_workflows.cloudify.plugins.workflows.execute_operation
    parameters:
      operation: {type: operation_name, default: a.b}
`,
			want: []string{
				`blueprint.yaml:4: inputs.op.type: type "operation_name" needs tosca_definitions_version cloudify_dsl_1_5 (this blueprint is cloudify_dsl_1_4)`,
				`blueprint.yaml:9: workflows.w.parameters.operation.type: type "operation_name" needs tosca_definitions_version cloudify_dsl_1_5`,
			},
		},
		{
			name: "a type that is not a DSL type is refused, with the valid ones",
			text: `
inputs:
  x: {type: any, default: 1}
  y: {type: str, default: a}
`,
			want: []string{
				`blueprint.yaml:4: inputs.x.type: type "any" is not supported (data types are not supported; use one of string, integer, float, boolean, list, dict, regex, textarea,`,
				`blueprint.yaml:5: inputs.y.type: type "str" is not supported`,
			},
		},
		{
			name: "item_type is only for lists, of a DSL type",
			text: `
inputs:
  a: {type: string, item_type: string, default: x}
  b: {type: list, item_type: tuple, default: []}
workflows:
  w:
    mapping: default_workflows.cloudify.plugins.workflows.execute_operation
    parameters:
      c: {type: dict, item_type: integer, default: {}}
      d: {type: list, item_type: integer, default: [1, two]}
`,
			want: []string{
				`blueprint.yaml:4: inputs.a.item_type: item_type is only for type list (the type is "string")`,
				`blueprint.yaml:5: inputs.b.item_type: item_type "tuple" is not supported`,
				`blueprint.yaml:10: workflows.w.parameters.c.item_type: item_type is only for type list (the type is "dict")`,
				`blueprint.yaml:11: workflows.w.parameters.d: the default item 1: "two" is not an integer`,
			},
		},
		{
			name:   "item_type needs 1_4",
			header: header13,
			text: `
inputs:
  a: {type: list, item_type: string, default: []}
`,
			want: []string{
				`blueprint.yaml:4: inputs.a.item_type: item_type needs tosca_definitions_version cloudify_dsl_1_4 (this blueprint is cloudify_dsl_1_3)`,
			},
		},
		{
			name: "the UI's keys are for inputs: on a parameter each is refused by name",
			text: `
inputs:
  notes: {type: textarea, default: "", display_label: Notes, hidden: false, display: {rows: 3}}
workflows:
  w:
    mapping: default_workflows.cloudify.plugins.workflows.execute_operation
    parameters:
      notes:
        type: textarea
        default: ""
        display_label: Notes
        hidden: true
        display: {rows: 3}
      other: {defualt: 1}
`,
			want: []string{
				`blueprint.yaml:12: workflows.w.parameters.notes: "display_label" is not a key of a workflow parameter: Cloudify's parser accepts it on inputs, not on parameters (a parameter takes type, item_type, default, description, required, constraints)`,
				`blueprint.yaml:13: workflows.w.parameters.notes: "hidden" is not a key of a workflow parameter: Cloudify's parser accepts it on inputs, not on parameters`,
				`blueprint.yaml:14: workflows.w.parameters.notes: "display" is not a key of a workflow parameter`,
				`blueprint.yaml:15: workflows.w.parameters.other: unknown key "defualt" (did you mean "default"?`,
			},
		},
		{
			name: "a parameter's default satisfies its type and constraints",
			text: `
workflows:
  w:
    mapping: default_workflows.cloudify.plugins.workflows.execute_operation
    parameters:
      rps: {type: integer, default: 0, constraints: [{in_range: [1, 1000]}]}
      mode: {type: string, default: some, constraints: [{valid_values: [one, all]}]}
      rate: {type: float, default: fast}
      match: {type: regex, default: "(?=x)"}
`,
			want: []string{
				`blueprint.yaml:7: workflows.w.parameters.rps: the default 0 is not in range [1, 1000]`,
				`blueprint.yaml:8: workflows.w.parameters.mode: the default "some" is not one of the valid values ["one","all"]`,
				`blueprint.yaml:9: workflows.w.parameters.rate: the default "fast" is not a number`,
				`blueprint.yaml:10: workflows.w.parameters.match: the default "(?=x)" is not a regular expression Go (RE2) accepts`,
			},
		},
		{
			name: "an explicit null default of a typed parameter is refused (the manager crashes converting it)",
			text: `
workflows:
  w:
    mapping: default_workflows.cloudify.plugins.workflows.execute_operation
    parameters:
      port: {type: integer, default: null}
      ratio: {type: float, default: ~}
      force: {type: boolean, default: null}
      ids: {type: list, default: null}
      free: {default: null}
      data: {type: dict, default: null}
      fine: {type: integer, required: false}
`,
			want: []string{
				`blueprint.yaml:7: workflows.w.parameters.port.default: a null default of a integer parameter fails every start on a manager, which converts it to a integer (integer, float, boolean and list crash it; a string is refused); to leave the parameter unset, write required: false and no default`,
				`blueprint.yaml:8: workflows.w.parameters.ratio.default: a null default of a float parameter`,
				`blueprint.yaml:9: workflows.w.parameters.force.default: a null default of a boolean parameter`,
				`blueprint.yaml:10: workflows.w.parameters.ids.default: a null default of a list parameter`,
			},
		},
		{
			name: "a constraint's error_message needs 1_5 on inputs and is refused on parameters",
			text: `
inputs:
  port: {type: integer, default: 80, constraints: [{in_range: [1, 65535], error_message: a port}]}
workflows:
  w:
    mapping: default_workflows.cloudify.plugins.workflows.execute_operation
    parameters:
      port: {type: integer, default: 80, constraints: [{in_range: [1, 65535], error_message: a port}]}
`,
			want: []string{
				`blueprint.yaml:4: inputs.port.constraints[0]: error_message needs tosca_definitions_version cloudify_dsl_1_5 (this blueprint is cloudify_dsl_1_4)`,
				`blueprint.yaml:9: workflows.w.parameters.port.constraints[0]: error_message is not accepted in a workflow parameter's constraint`,
			},
		},
		{
			name: "availability_rules take available, node_instances_active and node_types_required, each with its values",
			text: `
node_types:
  my.Chaos: {derived_from: cloudify.nodes.Root}
workflows:
  ok:
    mapping: default_workflows.cloudify.plugins.workflows.execute_operation
    availability_rules:
      available: true
      node_instances_active: [all, partial, none]
      node_types_required: [my.Chaos, cloudify.nodes.Root]
  bad:
    mapping: default_workflows.cloudify.plugins.workflows.execute_operation
    availability_rules:
      available: yes please
      node_instances_active: [started]
      node_types_required: [my.Choas]
      node_instance_active: [all]
  shape:
    mapping: default_workflows.cloudify.plugins.workflows.execute_operation
    availability_rules:
      node_instances_active: all
      node_types_required: my.Chaos
`,
			want: []string{
				`blueprint.yaml:15: workflows.bad.availability_rules.available: expected true or false, got "yes please"`,
				`blueprint.yaml:16: workflows.bad.availability_rules.node_instances_active: expected a list of all, partial, none, got ["started"]`,
				`blueprint.yaml:17: workflows.bad.availability_rules.node_types_required: node type "my.Choas" is not defined (did you mean "my.Chaos"?`,
				`blueprint.yaml:18: workflows.bad.availability_rules: unknown availability rule "node_instance_active" (did you mean "node_instances_active"? valid: available, node_instances_active, node_types_required) (available: true|false, node_instances_active: [all|partial|none], node_types_required: [node type, ...])`,
				`blueprint.yaml:22: workflows.shape.availability_rules.node_instances_active: expected a list of all, partial, none, got "all"`,
				`blueprint.yaml:23: workflows.shape.availability_rules.node_types_required: expected a list of node type names, got "my.Chaos"`,
			},
		},
		{
			name:   "availability_rules need 1_4",
			header: header13,
			text: `
workflows:
  w:
    mapping: default_workflows.cloudify.plugins.workflows.execute_operation
    availability_rules: {node_instances_active: [all]}
`,
			want: []string{
				`blueprint.yaml:6: workflows.w.availability_rules: availability_rules needs tosca_definitions_version cloudify_dsl_1_4 (this blueprint is cloudify_dsl_1_3)`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := tt.header
			if h == "" {
				h = header
			}
			inDir(t, map[string]string{"blueprint.yaml": h + strings.TrimPrefix(tt.text, "\n")})
			_, err := Load("blueprint.yaml")
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("Load: %v", err)
				}
				return
			}
			checkErrorLines(t, err, tt.want)
		})
	}
}
