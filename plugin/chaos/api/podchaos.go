package api

// PodChaosAction is what a PodChaos does to the selected pods.
type PodChaosAction string

// The PodChaos actions.
const (
	// PodKill deletes the pods once.
	PodKill PodChaosAction = "pod-kill"
	// PodFailure makes the pods unavailable for the duration.
	PodFailure PodChaosAction = "pod-failure"
	// ContainerKill kills the named containers once.
	ContainerKill PodChaosAction = "container-kill"
)

// PodChaosSpec is the spec of a PodChaos. Records are per pod, or per
// container for container-kill.
type PodChaosSpec struct {
	ContainerSelector `json:",inline"`
	CommonSpec        `json:",inline"`

	// Action is pod-kill, pod-failure or container-kill.
	Action PodChaosAction `json:"action"`
	// GracePeriod is the pod deletion grace period in seconds for
	// pod-kill; 0 deletes at once.
	GracePeriod int64 `json:"gracePeriod,omitempty"`
}

// Kind returns "PodChaos".
func (*PodChaosSpec) Kind() string { return "PodChaos" }

// Targets returns per-pod targets for pod-kill and pod-failure, per-container
// targets for container-kill, and none for an unknown action (as Chaos Mesh).
func (s *PodChaosSpec) Targets() []Target {
	switch s.Action {
	case PodKill, PodFailure:
		return podTarget(&s.PodSelector)
	case ContainerKill:
		return containerTarget(&s.ContainerSelector)
	}
	return nil
}

// OneShot reports whether the action is pod-kill or container-kill.
func (s *PodChaosSpec) OneShot() bool { return s.Action == PodKill || s.Action == ContainerKill }

func (s *PodChaosSpec) validate(v *validator) {
	v.podSelector("spec", &s.PodSelector)
	v.enum("spec.action", string(s.Action), string(PodKill), string(PodFailure), string(ContainerKill))
	if s.Action == ContainerKill && len(s.ContainerNames) == 0 {
		v.add("spec.containerNames", "missing", "container-kill needs the names of the containers to kill")
	}
	if s.Action == PodFailure && s.Duration == nil {
		v.add("spec.duration", "missing", `pod-failure needs a duration, e.g. duration: "30s"`)
	}
	if s.GracePeriod < 0 {
		v.add("spec.gracePeriod", "is negative", "use 0 (delete at once) or a number of seconds")
	}
}
