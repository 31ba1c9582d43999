package api

// DNSChaosAction is the DNS fault of a DNSChaos.
type DNSChaosAction string

// The DNSChaos actions.
const (
	// DNSError makes lookups fail.
	DNSError DNSChaosAction = "error"
	// DNSRandom makes lookups return random IPs.
	DNSRandom DNSChaosAction = "random"
)

// DNSChaosSpec is the spec of a DNSChaos. Records are per container.
type DNSChaosSpec struct {
	ContainerSelector `json:",inline"`
	CommonSpec        `json:",inline"`

	// Action is error or random.
	Action DNSChaosAction `json:"action"`
	// Patterns are the affected domain names; "?" and a trailing "*"
	// are wildcards. Empty affects every name.
	Patterns []string `json:"patterns,omitempty"`
}

// Kind returns "DNSChaos".
func (*DNSChaosSpec) Kind() string { return "DNSChaos" }

// Targets returns per-container targets.
func (s *DNSChaosSpec) Targets() []Target { return containerTarget(&s.ContainerSelector) }

// OneShot returns false.
func (*DNSChaosSpec) OneShot() bool { return false }

func (s *DNSChaosSpec) validate(v *validator) {
	v.podSelector("spec", &s.PodSelector)
	v.enum("spec.action", string(s.Action), string(DNSError), string(DNSRandom))
}
