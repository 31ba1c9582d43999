package api

// KernelChaosSpec is the spec of a KernelChaos: it makes kernel calls fail
// in the selected pods. Records are per pod.
type KernelChaosSpec struct {
	ContainerSelector `json:",inline"`
	CommonSpec        `json:",inline"`

	// FailKernRequest describes the failing calls.
	FailKernRequest FailKernRequest `json:"failKernRequest"`
}

// FailKernRequest describes the kernel calls to fail.
type FailKernRequest struct {
	// FailType is 0 (slab allocation), 1 (page allocation) or 2 (bio).
	FailType int32 `json:"failtype"`
	// Headers are kernel headers for the predicates.
	Headers []string `json:"headers,omitempty"`
	// Callchain restricts the failure to this call chain.
	Callchain []Frame `json:"callchain,omitempty"`
	// Probability is the failure probability in percent (0–100).
	Probability uint32 `json:"probability,omitempty"`
	// Times is the most failures.
	Times uint32 `json:"times,omitempty"`
}

// Frame is one function of a call chain.
type Frame struct {
	// Funcname is the function.
	Funcname string `json:"funcname,omitempty"`
	// Parameters are its parameters.
	Parameters string `json:"parameters,omitempty"`
	// Predicate is a condition on them.
	Predicate string `json:"predicate,omitempty"`
}

// Kind returns "KernelChaos".
func (*KernelChaosSpec) Kind() string { return "KernelChaos" }

// Targets returns per-pod targets (Chaos Mesh selects pods for KernelChaos
// although its spec has containerNames).
func (s *KernelChaosSpec) Targets() []Target { return podTarget(&s.PodSelector) }

// OneShot returns false.
func (*KernelChaosSpec) OneShot() bool { return false }

func (s *KernelChaosSpec) validate(v *validator) {
	v.podSelector("spec", &s.PodSelector)
	v.between("spec.failKernRequest.failtype", int64(s.FailKernRequest.FailType), 0, 2,
		"use 0 (slab), 1 (page) or 2 (bio)")
	v.between("spec.failKernRequest.probability", int64(s.FailKernRequest.Probability), 0, 100,
		"use a percentage, e.g. probability: 50")
}
