package scriptrunner

// State is the context an operation sees through the proxy.
type State struct {
	Operation    Operation
	Node         Node
	Instance     Instance
	DeploymentID string
	BlueprintID  string
	ExecutionID  string
	WorkflowID   string
	TenantName   string
	TaskID       string
}

// Operation describes the running operation.
type Operation struct {
	Name        string // full name, e.g. cloudify.interfaces.lifecycle.create
	RetryNumber int
	MaxRetries  int
}

// Node is the node template of the instance.
type Node struct {
	ID            string
	Type          string
	TypeHierarchy []string
	Properties    map[string]any
}

// Instance is the node instance; RuntimeProperties is changed in place by
// set calls, as Cloudify keeps them in memory until the operation ends.
type Instance struct {
	ID                string
	RuntimeProperties map[string]any
	// Updates counts "instance update" calls (explicit persists).
	Updates int
}

// LogLine is one line of the execution's event log.
type LogLine struct {
	Level   string // debug, info, warning, error
	Message string
	// Stream is "ctx" for logger calls, "out"/"err" for captured output.
	Stream string
}
