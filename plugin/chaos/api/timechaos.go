package api

import "time"

// TimeChaosSpec is the spec of a TimeChaos: it shifts the clocks seen by
// the selected containers. Records are per container.
type TimeChaosSpec struct {
	ContainerSelector `json:",inline"`
	CommonSpec        `json:",inline"`

	// TimeOffset is the shift as a Go duration, e.g. "-5m".
	TimeOffset string `json:"timeOffset"`
	// ClockIds are the affected clocks, e.g. CLOCK_REALTIME (the default).
	ClockIds []string `json:"clockIds,omitempty"`
}

// Kind returns "TimeChaos".
func (*TimeChaosSpec) Kind() string { return "TimeChaos" }

// Targets returns per-container targets.
func (s *TimeChaosSpec) Targets() []Target { return containerTarget(&s.ContainerSelector) }

// OneShot returns false.
func (*TimeChaosSpec) OneShot() bool { return false }

func (s *TimeChaosSpec) validate(v *validator) {
	v.podSelector("spec", &s.PodSelector)
	if _, err := time.ParseDuration(s.TimeOffset); err != nil {
		v.add("spec.timeOffset", valueProblem(s.TimeOffset, "a duration"), `use e.g. timeOffset: "-10m"`)
	}
}
