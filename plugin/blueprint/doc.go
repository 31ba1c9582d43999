// Package blueprint reads Cloudify blueprints — the DSL subset the chaosops
// bundle uses — and keeps the file and line of every construct, for the
// local runner (chaosops local install/execute/uninstall) and the linter.
// It is pure Go: no Cloudify protocol, no CLI.
//
// Load reads the main file and its local imports into a Blueprint: inputs,
// node types and relationship types (with the built-ins of
// cloudify/types/types.yaml when it is imported), node templates completed
// from their types (properties with defaults, interfaces merged by
// Cloudify's operation rules, relationships), workflows, outputs,
// capabilities and labels. Every problem is reported as
// "file:line: <where>: <what and how to fix>", all of them at once in an
// ErrorList.
//
// Then:
//
//   - Blueprint.ResolveInputs and Workflow.ResolveParameters check given
//     values (types, constraints, required, undeclared) and apply defaults;
//   - Evaluate replaces intrinsic functions (get_input, get_property,
//     get_attribute, get_secret, get_capability, get_environment_capability,
//     get_sys, get_label, concat, merge) through a Resolver, which the runner
//     implements; StaticResolver answers get_input and get_property from the
//     blueprint alone;
//   - Blueprint.Order and ReverseOrder give install and uninstall levels of
//     nodes that may run in parallel;
//   - Functions, Blueprint.Functions, SuspectFunctions and Blueprint.Lint
//     serve the linter.
//
// Supported: tosca_definitions_version cloudify_dsl_1_3, 1_4 and 1_5;
// description, metadata, dsl_definitions (YAML anchors and merge keys),
// imports of local files and of the official types.yaml (short, versioned or
// URL form; never fetched), inputs (types, constraints, display_label,
// hidden, item_type), node_types, relationships, node_templates (type,
// properties, interfaces, relationships, capabilities.scalable,
// instances.deploy), workflows (mapping, parameters, availability_rules,
// is_cascading; the short form "name: mapping"), outputs, capabilities,
// labels, blueprint_labels and deployment_settings (default_schedules, see
// Schedule; default_groups, id_template and display_name are only checked).
// Operations may be implemented by a file of
// the blueprint (run by the script plugin), an http(s) URL, an inline script
// or a task of a built-in plugin (script, default_workflows,
// cfy_extensions).
//
// Not supported, reported with their position: plugins, plugin: and
// remote or namespaced imports, data_types (and non-primitive property
// types), policies, policy_types, policy_triggers, groups, scaling_groups,
// upload_resources, resource_tags, and the
// cloudify_dsl_1_5 constraints that query a manager (filter_id, labels,
// tenants, name_pattern, deployment_id). An empty section of these is
// accepted.
package blueprint
