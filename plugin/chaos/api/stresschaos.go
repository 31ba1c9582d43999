package api

// StressChaosSpec is the spec of a StressChaos: CPU or memory stress in the
// selected containers. Records are per container.
type StressChaosSpec struct {
	ContainerSelector `json:",inline"`
	CommonSpec        `json:",inline"`

	// Stressors are the CPU and memory stressors.
	Stressors *Stressors `json:"stressors,omitempty"`
	// StressngStressors are raw stress-ng options, used instead of Stressors.
	StressngStressors string `json:"stressngStressors,omitempty"`
}

// Stressors are the stressors of a StressChaos.
type Stressors struct {
	// Memory stresses memory.
	Memory *MemoryStressor `json:"memory,omitempty"`
	// CPU stresses CPU.
	CPU *CPUStressor `json:"cpu,omitempty"`
}

// MemoryStressor allocates memory.
type MemoryStressor struct {
	// Workers is the number of workers (at most 8192).
	Workers int `json:"workers"`
	// Size is the memory per worker, e.g. "256MB" or "50%".
	Size string `json:"size,omitempty"`
	// OOMScoreAdj is the stress process's oom_score_adj (-1000 to 1000).
	OOMScoreAdj int `json:"oomScoreAdj,omitempty"`
	// Options are extra stress-ng options.
	Options []string `json:"options,omitempty"`
}

// CPUStressor burns CPU.
type CPUStressor struct {
	// Workers is the number of workers (at most 8192).
	Workers int `json:"workers"`
	// Load is the percentage of a CPU each worker uses (0–100).
	Load *int `json:"load,omitempty"`
	// Options are extra stress-ng options.
	Options []string `json:"options,omitempty"`
}

// Kind returns "StressChaos".
func (*StressChaosSpec) Kind() string { return "StressChaos" }

// Targets returns per-container targets.
func (s *StressChaosSpec) Targets() []Target { return containerTarget(&s.ContainerSelector) }

// OneShot returns false.
func (*StressChaosSpec) OneShot() bool { return false }

func (s *StressChaosSpec) validate(v *validator) {
	v.podSelector("spec", &s.PodSelector)
	st := s.Stressors
	if s.StressngStressors == "" && (st == nil || st.CPU == nil && st.Memory == nil) {
		v.add("spec.stressors", "missing", "set stressors.cpu or stressors.memory (or stressngStressors)")
	}
	if st == nil {
		return
	}
	if st.CPU != nil {
		v.between("spec.stressors.cpu.workers", int64(st.CPU.Workers), 1, 8192, "use e.g. workers: 1")
		if st.CPU.Load != nil {
			v.between("spec.stressors.cpu.load", int64(*st.CPU.Load), 0, 100, "use a percentage of one CPU, e.g. load: 50")
		}
	}
	if st.Memory != nil {
		v.between("spec.stressors.memory.workers", int64(st.Memory.Workers), 1, 8192, "use e.g. workers: 1")
		v.between("spec.stressors.memory.oomScoreAdj", int64(st.Memory.OOMScoreAdj), -1000, 1000, "use a value from -1000 to 1000")
	}
}
