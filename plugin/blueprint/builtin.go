package blueprint

// The built-in types and workflows of cloudify/types/types.yaml that a
// blueprint of our bundle can meet. This is a small table written for
// chaosops, not a copy of types.yaml: operations implemented by the
// manager's cfy_extensions plugin are listed so that a runner can recognise
// (and refuse or stand in for) them.

// builtinFile is the file name positions of built-in definitions carry.
const builtinFile = "cloudify/types/types.yaml"

// Plugins every manager has without an upload.
var builtinPlugins = []string{"script", "default_workflows", "cfy_extensions"}

var builtinPos = Pos{File: builtinFile}

func noOps(iface string, names ...string) map[string]*Operation {
	ops := map[string]*Operation{}
	for _, n := range names {
		ops[n] = &Operation{Interface: iface, Name: n, Inputs: map[string]any{}, InputSchema: map[string]*Input{}, Pos: builtinPos}
	}
	return ops
}

// task is a built-in plugin operation; inputs are declarations.
func task(iface, name, impl string, inputs ...*Input) *Operation {
	op := &Operation{Interface: iface, Name: name, Implementation: impl, Kind: ImplPlugin,
		Inputs: map[string]any{}, InputSchema: map[string]*Input{}, Pos: builtinPos}
	for _, in := range inputs {
		op.InputSchema[in.Name] = in
		if in.HasDefault {
			op.Inputs[in.Name] = in.Default
		}
	}
	return op
}

func opt(name, typ string, def any) *Input {
	return &Input{Name: name, Type: typ, Default: def, HasDefault: true, Pos: builtinPos}
}

func req(name, typ string) *Input {
	return &Input{Name: name, Type: typ, Required: true, Pos: builtinPos}
}

func props(list ...*Input) map[string]*Input {
	m := map[string]*Input{}
	for _, in := range list {
		m[in.Name] = in
	}
	return m
}

const (
	lifecycle    = "cloudify.interfaces.lifecycle"
	relLifecycle = "cloudify.interfaces.relationship_lifecycle"
	component    = "cfy_extensions.cloudify_types.component."
	shared       = "cfy_extensions.cloudify_types.shared_resource."
)

// Built-in type names the runner and the linter look for.
const (
	// TypeRoot is the root of every node type.
	TypeRoot = "cloudify.nodes.Root"
	// TypeCompute is a host with an agent; chaosops local creates none.
	TypeCompute = "cloudify.nodes.Compute"
	// TypeComponent installs a child deployment (cfy_extensions plugin).
	TypeComponent = "cloudify.nodes.Component"
	// TypeServiceComponent is TypeComponent under another name.
	TypeServiceComponent = "cloudify.nodes.ServiceComponent"
	// TypeSharedResource links to an existing deployment.
	TypeSharedResource = "cloudify.nodes.SharedResource"
	// RelDependsOn is the root of every relationship type.
	RelDependsOn = "cloudify.relationships.depends_on"
	// RelContainedIn places a node in another; a node has at most one.
	RelContainedIn = "cloudify.relationships.contained_in"
	// RelConnectedTo derives from RelDependsOn.
	RelConnectedTo = "cloudify.relationships.connected_to"
)

func builtinNodeTypes() map[string]*NodeType {
	t := func(name, parent string, p map[string]*Input, ifaces ifaceMap) *NodeType {
		if p == nil {
			p = map[string]*Input{}
		}
		if ifaces == nil {
			ifaces = ifaceMap{}
		}
		return &NodeType{Name: name, DerivedFrom: parent, Builtin: true, Pos: builtinPos, ownProperties: p, ownInterfaces: ifaces}
	}
	componentConfig := opt("resource_config", "", map[string]any{
		"blueprint": map[string]any{
			"external_resource": false, "id": "", "blueprint_archive": "", "main_file_name": "blueprint.yaml",
		},
		"deployment": map[string]any{"id": "", "inputs": map[string]any{}, "labels": []any{}, "auto_inc_suffix": false},
	})
	sharedConfig := opt("resource_config", "", map[string]any{"deployment": map[string]any{"id": ""}})
	agentConfig := opt("agent_config", "", map[string]any{"install_method": "remote", "port": 22, "network": "default"})
	// These are typed with Cloudify data types: a template's value is
	// merged into the default key by key, as the data type's defaults are.
	for _, in := range []*Input{componentConfig, sharedConfig, agentConfig} {
		in.mergeDefault = true
	}
	types := []*NodeType{
		t(TypeRoot, "", nil, ifaceMap{
			lifecycle: noOps(lifecycle, "precreate", "create", "configure", "start", "poststart",
				"prestop", "stop", "delete", "postdelete", "heal", "check_status", "check_drift",
				"update", "update_config", "update_apply", "update_postapply"),
			"cloudify.interfaces.validation": noOps("cloudify.interfaces.validation", "create", "delete"),
			"cloudify.interfaces.monitoring": noOps("cloudify.interfaces.monitoring", "start", "stop"),
		}),
		t(TypeCompute, TypeRoot, props(opt("ip", "", ""), opt("os_family", "", "linux"), agentConfig,
			opt("install_agent", "", ""), opt("cloudify_agent", "", map[string]any{})), nil),
		t("cloudify.nodes.Tier", TypeRoot, nil, nil),
		t("cloudify.nodes.SoftwareComponent", TypeRoot, nil, nil),
		t("cloudify.nodes.ApplicationServer", "cloudify.nodes.SoftwareComponent", nil, nil),
		t("cloudify.nodes.WebServer", "cloudify.nodes.SoftwareComponent", props(opt("port", "", 80)), nil),
		t("cloudify.nodes.DBMS", "cloudify.nodes.SoftwareComponent", nil, nil),
		t("cloudify.nodes.Database", TypeRoot, nil, nil),
		t("cloudify.nodes.ApplicationModule", TypeRoot, nil, nil),
		t(TypeComponent, TypeRoot, props(componentConfig, opt("client", "", map[string]any{}),
			opt("plugins", "dict", map[string]any{}), opt("secrets", "dict", map[string]any{})),
			ifaceMap{lifecycle: {
				"create":    task(lifecycle, "create", component+"upload_blueprint"),
				"configure": task(lifecycle, "configure", component+"create"),
				"start": task(lifecycle, "start", component+"execute_start", opt("workflow_id", "string", "install"),
					opt("timeout", "integer", 1800), opt("interval", "integer", 10)),
				"stop":   task(lifecycle, "stop", component+"execute_start", opt("workflow_id", "", "uninstall")),
				"delete": task(lifecycle, "delete", component+"delete"),
			}}),
		t(TypeServiceComponent, TypeComponent, nil, nil),
		t(TypeSharedResource, TypeRoot, props(sharedConfig, opt("client", "", map[string]any{})),
			ifaceMap{lifecycle: {
				"create": task(lifecycle, "create", shared+"connect_deployment"),
				"delete": task(lifecycle, "delete", shared+"disconnect_deployment"),
			}}),
	}
	out := map[string]*NodeType{}
	for _, nt := range types {
		out[nt.Name] = nt
	}
	return out
}

func builtinRelationshipTypes() map[string]*RelationshipType {
	t := func(name, parent string, p map[string]*Input, target ifaceMap) *RelationshipType {
		if p == nil {
			p = map[string]*Input{}
		}
		if target == nil {
			target = ifaceMap{}
		}
		return &RelationshipType{Name: name, DerivedFrom: parent, Builtin: true, Pos: builtinPos,
			ownProperties: p, ownSource: ifaceMap{}, ownTarget: target}
	}
	relOps := func() map[string]*Operation {
		return noOps(relLifecycle, "preconfigure", "postconfigure", "establish", "unlink")
	}
	sharedOps := func() ifaceMap {
		in := func() []*Input {
			return []*Input{req("workflow_id", "string"), opt("parameters", "dict", map[string]any{}), opt("timeout", "integer", 10)}
		}
		return ifaceMap{relLifecycle: {
			"establish": task(relLifecycle, "establish", shared+"execute_workflow", in()...),
			"unlink":    task(relLifecycle, "unlink", shared+"execute_workflow", in()...),
		}}
	}
	root := t(RelDependsOn, "", props(opt("connection_type", "", "all_to_all")), ifaceMap{relLifecycle: relOps()})
	root.ownSource = ifaceMap{relLifecycle: relOps()}
	types := []*RelationshipType{
		root,
		t(RelContainedIn, RelDependsOn, nil, nil),
		t(RelConnectedTo, RelDependsOn, nil, nil),
		t("cloudify.relationships.depends_on_lifecycle_operation", RelDependsOn, props(req("operation", "string")), nil),
		t("cloudify.relationships.depends_on_shared_resource", RelDependsOn, nil, sharedOps()),
		t("cloudify.relationships.connected_to_shared_resource", RelConnectedTo, nil, sharedOps()),
	}
	out := map[string]*RelationshipType{}
	for _, rt := range types {
		out[rt.Name] = rt
	}
	return out
}

func builtinWorkflows() map[string]*Workflow {
	w := func(name string, params ...*Input) *Workflow {
		wf := &Workflow{Name: name, Mapping: "default_workflows.cloudify.plugins.workflows." + name,
			Kind: ImplPlugin, Builtin: true, Pos: builtinPos, Parameters: map[string]*Input{}}
		for _, p := range params {
			wf.Parameters[p.Name] = p
			wf.ParameterOrder = append(wf.ParameterOrder, p.Name)
		}
		return wf
	}
	return map[string]*Workflow{
		"install":   w("install"),
		"uninstall": w("uninstall", opt("ignore_failure", "boolean", false)),
		"execute_operation": w("execute_operation", req("operation", ""),
			opt("operation_kwargs", "", map[string]any{}), opt("allow_kwargs_override", "", nil),
			opt("run_by_dependency_order", "", false), opt("type_names", "", []any{}),
			opt("node_ids", "", []any{}), opt("node_instance_ids", "", []any{})),
	}
}

// addBuiltins adds the built-in definitions once types.yaml is imported; a
// blueprint definition of the same name is a duplicate.
func (l *loader) addBuiltins() {
	for name, t := range builtinNodeTypes() {
		if user, dup := l.bp.NodeTypes[name]; dup {
			l.add(user.Pos, "node type %q is already defined by %s", name, builtinFile)
			continue
		}
		l.bp.NodeTypes[name] = t
	}
	for name, t := range builtinRelationshipTypes() {
		if user, dup := l.bp.Relationships[name]; dup {
			l.add(user.Pos, "relationship type %q is already defined by %s", name, builtinFile)
			continue
		}
		l.bp.Relationships[name] = t
	}
	for name, w := range builtinWorkflows() {
		if user, dup := l.bp.Workflows[name]; dup {
			l.add(user.Pos, "workflow %q is already defined by %s", name, builtinFile)
			continue
		}
		l.bp.Workflows[name] = w
	}
}
