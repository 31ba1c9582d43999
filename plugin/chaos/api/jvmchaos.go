package api

// JVMChaosAction is the fault a JVMChaos injects into a Java process.
type JVMChaosAction string

// The JVMChaos actions.
const (
	// JVMLatency delays a method.
	JVMLatency JVMChaosAction = "latency"
	// JVMReturn makes a method return ReturnValue.
	JVMReturn JVMChaosAction = "return"
	// JVMException makes a method throw Exception.
	JVMException JVMChaosAction = "exception"
	// JVMStress stresses CPU or memory in the JVM.
	JVMStress JVMChaosAction = "stress"
	// JVMGC triggers garbage collection.
	JVMGC JVMChaosAction = "gc"
	// JVMRuleData installs a Byteman rule.
	JVMRuleData JVMChaosAction = "ruleData"
	// JVMMySQL injects faults into MySQL client calls.
	JVMMySQL JVMChaosAction = "mysql"
)

// JVMChaosSpec is the spec of a JVMChaos. Records are per container.
type JVMChaosSpec struct {
	ContainerSelector `json:",inline"`
	CommonSpec        `json:",inline"`

	// Action is the fault.
	Action JVMChaosAction `json:"action"`
	// Port is the port of the agent in the JVM.
	Port int32 `json:"port,omitempty"`
	// Pid is the Java process; 0 finds it.
	Pid int `json:"pid,omitempty"`
	// Class is the Java class of the affected method.
	Class string `json:"class,omitempty"`
	// Method is the affected method.
	Method string `json:"method,omitempty"`
	// Latency is the delay in milliseconds (action latency, mysql).
	Latency int `json:"latency,omitempty"`
	// ReturnValue is the value returned (action return).
	ReturnValue string `json:"returnValue,omitempty"`
	// Exception is the exception thrown (actions exception, mysql).
	Exception string `json:"exception,omitempty"`
	// CPUCount is the number of CPU cores to stress (action stress).
	CPUCount int `json:"cpuCount,omitempty"`
	// MemType is "stack" or "heap" (action stress).
	MemType string `json:"memType,omitempty"`
	// RuleData is a Byteman rule (action ruleData).
	RuleData string `json:"ruleData,omitempty"`
	// Name is the name of the Byteman rule.
	Name string `json:"name,omitempty"`
	// MySQLConnectorVersion is "5" or "8" (action mysql).
	MySQLConnectorVersion string `json:"mysqlConnectorVersion,omitempty"`
	// Database is the affected database (action mysql).
	Database string `json:"database,omitempty"`
	// Table is the affected table (action mysql).
	Table string `json:"table,omitempty"`
	// SQLType is the affected statement type, e.g. "select" (action mysql).
	SQLType string `json:"sqlType,omitempty"`
}

// Kind returns "JVMChaos".
func (*JVMChaosSpec) Kind() string { return "JVMChaos" }

// Targets returns per-container targets.
func (s *JVMChaosSpec) Targets() []Target { return containerTarget(&s.ContainerSelector) }

// OneShot returns false.
func (*JVMChaosSpec) OneShot() bool { return false }

func (s *JVMChaosSpec) validate(v *validator) {
	v.podSelector("spec", &s.PodSelector)
	v.enum("spec.action", string(s.Action), string(JVMLatency), string(JVMReturn), string(JVMException),
		string(JVMStress), string(JVMGC), string(JVMRuleData), string(JVMMySQL))
	switch s.Action {
	case JVMLatency, JVMReturn, JVMException:
		v.required("spec.class", s.Class, "name the Java class of the method, e.g. class: com.example.Main")
		v.required("spec.method", s.Method, "name the method, e.g. method: handle")
	case JVMRuleData:
		v.required("spec.ruleData", s.RuleData, "set the Byteman rule")
	}
}
