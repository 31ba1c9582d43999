package blueprint

import (
	"slices"
	"strings"
)

// Blueprint is a loaded blueprint: the main file merged with its imports and
// with the built-in Cloudify types, every type hierarchy resolved and every
// node template completed from its type.
type Blueprint struct {
	// Dir is the directory of MainFile. Script implementations and other
	// bundled resources are relative to it, as in a blueprint archive.
	Dir string
	// MainFile is the path given to Load.
	MainFile string
	// DSLVersion is the tosca_definitions_version of the main file:
	// cloudify_dsl_1_3, cloudify_dsl_1_4 or cloudify_dsl_1_5.
	DSLVersion  string
	Description string
	Metadata    map[string]any
	// Imports lists every import as written, main file first, without repeats.
	Imports []string
	// Files lists the local YAML files read, main file first.
	Files []string

	// Inputs are the declared inputs; InputOrder is their declaration order.
	Inputs     map[string]*Input
	InputOrder []string

	// NodeTypes and Relationships hold every type, built-ins included.
	NodeTypes     map[string]*NodeType
	Relationships map[string]*RelationshipType

	// Nodes are the node templates; NodeOrder is their declaration order.
	Nodes     map[string]*NodeTemplate
	NodeOrder []string

	Outputs         map[string]*Output
	OutputOrder     []string
	Capabilities    map[string]*Output
	CapabilityOrder []string
	// Workflows holds the blueprint's workflows and the built-in install,
	// uninstall and execute_operation.
	Workflows map[string]*Workflow
	// Labels and BlueprintLabels map a label key to its values.
	Labels          map[string][]any
	BlueprintLabels map[string][]any
	// DefaultSchedules are deployment_settings.default_schedules;
	// ScheduleOrder is their declaration order.
	DefaultSchedules map[string]*Schedule
	ScheduleOrder    []string

	officialTypes    bool  // cloudify/types/types.yaml is imported
	officialTypesURL []Pos // ... by URL, here
	funcs            []FuncRef
	suspects         []FuncRef
}

// Input declares a blueprint input, a workflow parameter, a property of a
// node or relationship type, or an input of a type's operation. Keys a
// context does not allow (e.g. hidden on a property) are rejected at load.
type Input struct {
	Name string
	// Type is string, integer, float, boolean, list, dict, regex,
	// textarea, one of the object types (node_id, deployment_id,
	// secret_key, blueprint_id, ... from cloudify_dsl_1_4; operation_name
	// from 1_5), which hold a string here, or "" for any value.
	Type string
	// ItemType is the type of every item of a list (cloudify_dsl_1_4).
	ItemType     string
	Description  string
	DisplayLabel string
	Default      any
	HasDefault   bool
	// Required is the effective requiredness: true unless the declaration
	// has a default or says required: false.
	Required    bool
	Hidden      bool
	Constraints []*Constraint
	Pos         Pos

	mergeDefault bool
}

// NodeType is a node type with its hierarchy resolved.
type NodeType struct {
	Name        string
	DerivedFrom string
	// Hierarchy lists the type's ancestors from the root, the type last.
	Hierarchy []string
	// Properties is the property schema merged down the hierarchy: a type's
	// declaration of a property replaces its parent's.
	Properties map[string]*Input
	// Interfaces maps interface name to operation name to operation, merged
	// down the hierarchy. Operation inputs here carry InputSchema.
	Interfaces map[string]map[string]*Operation
	// Builtin is true for the types of cloudify/types/types.yaml.
	Builtin bool
	Pos     Pos

	ownProperties map[string]*Input
	ownInterfaces map[string]map[string]*Operation
}

// RelationshipType is a relationship type with its hierarchy resolved.
type RelationshipType struct {
	Name             string
	DerivedFrom      string
	Hierarchy        []string
	Properties       map[string]*Input
	SourceInterfaces map[string]map[string]*Operation
	TargetInterfaces map[string]map[string]*Operation
	Builtin          bool
	Pos              Pos

	ownProperties map[string]*Input
	ownSource     map[string]map[string]*Operation
	ownTarget     map[string]map[string]*Operation
}

// NodeTemplate is a node of the blueprint, completed from its type.
type NodeTemplate struct {
	Name string
	Type string
	// TypeHierarchy lists the node's types from cloudify.nodes.Root to Type.
	TypeHierarchy []string
	// Properties holds the template's values over the type's defaults.
	// Values may contain intrinsic functions (see Evaluate).
	Properties map[string]any
	// Interfaces holds the type's operations merged with the template's, by
	// Cloudify's rules: a template operation without implementation keeps
	// the type's and fills its input schema; one with another
	// implementation replaces it.
	Interfaces    map[string]map[string]*Operation
	Relationships []*Relationship
	// Instances is capabilities.scalable.properties.default_instances (or
	// the deprecated instances.deploy), 1 when not given.
	Instances int
	Pos       Pos
}

// Is reports whether the node's type is typeName or derives from it.
func (n *NodeTemplate) Is(typeName string) bool {
	return slices.Contains(n.TypeHierarchy, typeName)
}

// Operation returns the operation with a full name such as
// "cloudify.interfaces.lifecycle.create", or nil.
func (n *NodeTemplate) Operation(fullName string) *Operation {
	return findOperation(n.Interfaces, fullName)
}

func findOperation(ifaces map[string]map[string]*Operation, fullName string) *Operation {
	i := strings.LastIndex(fullName, ".")
	if i < 0 {
		return nil
	}
	return ifaces[fullName[:i]][fullName[i+1:]]
}

// Relationship is one entry of a node template's relationships.
type Relationship struct {
	Type   string
	Target string
	// TypeHierarchy lists the relationship's types from the root to Type.
	TypeHierarchy    []string
	Properties       map[string]any
	SourceInterfaces map[string]map[string]*Operation
	TargetInterfaces map[string]map[string]*Operation
	Pos              Pos
}

// Is reports whether the relationship's type is typeName or derives from it.
func (r *Relationship) Is(typeName string) bool {
	return slices.Contains(r.TypeHierarchy, typeName)
}

// Operation is an operation of an interface.
type Operation struct {
	Interface string
	Name      string
	// Implementation is what runs: a path in the blueprint directory, an
	// http(s) URL or an inline script (all run by the built-in script
	// plugin), or a plugin task "<plugin>.<module>.<task>". Empty means the
	// operation does nothing.
	Implementation string
	Kind           ImplKind
	// Inputs maps input name to raw value (intrinsic functions not yet
	// evaluated). For a type's operation these are the schema defaults.
	Inputs map[string]any
	// InputSchema is the declaration of the inputs of a type's operation;
	// nil on node templates and relationship instances.
	InputSchema map[string]*Input
	// Executor is central_deployment_agent, host_agent or "" (Cloudify's
	// default: auto).
	Executor           string
	MaxRetries         *int
	RetryInterval      *int
	Timeout            *int
	TimeoutRecoverable *bool
	Pos                Pos
}

// FullName returns "<interface>.<operation>", the name ctx reports.
func (o *Operation) FullName() string { return o.Interface + "." + o.Name }

// Plugin returns the plugin of a plugin task ("script", "default_workflows",
// "cfy_extensions"), or "".
func (o *Operation) Plugin() string {
	if o.Kind != ImplPlugin {
		return ""
	}
	plugin, _, _ := strings.Cut(o.Implementation, ".")
	return plugin
}

// ImplKind says how an operation's implementation runs.
type ImplKind int

// Kinds of implementation.
const (
	// ImplNone is an empty implementation: the operation is a no-op.
	ImplNone ImplKind = iota
	// ImplScript is a file in the blueprint directory run by the script
	// plugin (our Go binary, e.g. bin/chaosops).
	ImplScript
	// ImplURL is an http(s) URL downloaded and run by the script plugin.
	ImplURL
	// ImplInline is a multi-line script given in the blueprint.
	ImplInline
	// ImplPlugin is a task of a built-in plugin.
	ImplPlugin
)

// String returns the kind's name.
func (k ImplKind) String() string {
	return [...]string{"none", "script", "url", "inline", "plugin"}[k]
}

// Output is an entry of outputs or capabilities.
type Output struct {
	Name        string
	Value       any
	Description string
	Pos         Pos
}

// Workflow is an entry of workflows, or a built-in workflow of types.yaml.
type Workflow struct {
	Name string
	// Mapping is the plugin task ("default_workflows.cloudify.plugins.
	// workflows.execute_operation") or script path the workflow runs.
	Mapping           string
	Kind              ImplKind
	Parameters        map[string]*Input
	ParameterOrder    []string
	AvailabilityRules map[string]any
	IsCascading       *bool
	Builtin           bool
	// Forwards is set for a script mapping that starts with ForwarderMarker.
	Forwards bool
	Pos      Pos

	typesRequiredPos Pos // of availability_rules.node_types_required
}
