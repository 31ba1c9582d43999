package api

// NetworkChaosAction is the network fault of a NetworkChaos.
type NetworkChaosAction string

// The NetworkChaos actions.
const (
	// NetworkActionNetem combines delay, loss, duplicate, corrupt and rate.
	NetworkActionNetem NetworkChaosAction = "netem"
	// NetworkActionDelay adds latency.
	NetworkActionDelay NetworkChaosAction = "delay"
	// NetworkActionLoss drops packets.
	NetworkActionLoss NetworkChaosAction = "loss"
	// NetworkActionDuplicate duplicates packets.
	NetworkActionDuplicate NetworkChaosAction = "duplicate"
	// NetworkActionCorrupt corrupts packets.
	NetworkActionCorrupt NetworkChaosAction = "corrupt"
	// NetworkActionPartition cuts the selected pods off from the target.
	NetworkActionPartition NetworkChaosAction = "partition"
	// NetworkActionBandwidth limits bandwidth.
	NetworkActionBandwidth NetworkChaosAction = "bandwidth"
)

// NetworkChaosSpec is the spec of a NetworkChaos. Records are per pod, for
// the main selector (key ".") and the optional target (key ".Target").
type NetworkChaosSpec struct {
	PodSelector `json:",inline"`
	CommonSpec  `json:",inline"`

	// Action is the fault.
	Action NetworkChaosAction `json:"action"`
	// Device is the network device of the selected pods.
	Device string `json:"device,omitempty"`
	// Direction is to, from or both (default to), relative to Target.
	Direction string `json:"direction,omitempty"`
	// Target selects the peer pods of the fault.
	Target *PodSelector `json:"target,omitempty"`
	// TargetDevice is the network device of the target pods.
	TargetDevice string `json:"targetDevice,omitempty"`
	// ExternalTargets are IPs or host names outside the cluster.
	ExternalTargets []string `json:"externalTargets,omitempty"`

	// Delay parameters (actions delay and netem).
	Delay *NetworkDelay `json:"delay,omitempty"`
	// Loss parameters (actions loss and netem).
	Loss *NetworkLoss `json:"loss,omitempty"`
	// Duplicate parameters (actions duplicate and netem).
	Duplicate *NetworkDuplicate `json:"duplicate,omitempty"`
	// Corrupt parameters (actions corrupt and netem).
	Corrupt *NetworkCorrupt `json:"corrupt,omitempty"`
	// Bandwidth parameters (action bandwidth).
	Bandwidth *NetworkBandwidth `json:"bandwidth,omitempty"`
	// Rate parameters (action netem).
	Rate *NetworkRate `json:"rate,omitempty"`
}

// NetworkDelay adds latency.
type NetworkDelay struct {
	// Latency is a duration such as "100ms".
	Latency string `json:"latency"`
	// Correlation is a percentage as a string, e.g. "25".
	Correlation string `json:"correlation,omitempty"`
	// Jitter is a duration such as "10ms".
	Jitter string `json:"jitter,omitempty"`
	// Reorder reorders packets.
	Reorder *NetworkReorder `json:"reorder,omitempty"`
}

// NetworkReorder reorders packets.
type NetworkReorder struct {
	// Reorder is a percentage as a string.
	Reorder string `json:"reorder"`
	// Correlation is a percentage as a string.
	Correlation string `json:"correlation,omitempty"`
	// Gap is the packet gap.
	Gap int `json:"gap"`
}

// NetworkLoss drops packets.
type NetworkLoss struct {
	// Loss is a percentage as a string.
	Loss string `json:"loss"`
	// Correlation is a percentage as a string.
	Correlation string `json:"correlation,omitempty"`
}

// NetworkDuplicate duplicates packets.
type NetworkDuplicate struct {
	// Duplicate is a percentage as a string.
	Duplicate string `json:"duplicate"`
	// Correlation is a percentage as a string.
	Correlation string `json:"correlation,omitempty"`
}

// NetworkCorrupt corrupts packets.
type NetworkCorrupt struct {
	// Corrupt is a percentage as a string.
	Corrupt string `json:"corrupt"`
	// Correlation is a percentage as a string.
	Correlation string `json:"correlation,omitempty"`
}

// NetworkBandwidth limits bandwidth with a token bucket filter.
type NetworkBandwidth struct {
	// Rate is the rate, e.g. "1mbps".
	Rate string `json:"rate"`
	// Limit is the queue size in bytes (≥ 1).
	Limit uint32 `json:"limit"`
	// Buffer is the bucket size in bytes (≥ 1).
	Buffer uint32 `json:"buffer"`
	// Peakrate is the maximum depletion rate of the bucket.
	Peakrate *uint64 `json:"peakrate,omitempty"`
	// Minburst is the size of the peakrate bucket.
	Minburst *uint32 `json:"minburst,omitempty"`
}

// NetworkRate limits the rate with netem.
type NetworkRate struct {
	// Rate is the rate, e.g. "1mbps".
	Rate string `json:"rate"`
}

// Kind returns "NetworkChaos".
func (*NetworkChaosSpec) Kind() string { return "NetworkChaos" }

// Targets returns the main selector and, when set, the target selector.
func (s *NetworkChaosSpec) Targets() []Target {
	t := podTarget(&s.PodSelector)
	if s.Target != nil {
		t = append(t, Target{Key: ".Target", Selector: s.Target})
	}
	return t
}

// OneShot returns false.
func (*NetworkChaosSpec) OneShot() bool { return false }

func (s *NetworkChaosSpec) validate(v *validator) {
	v.podSelector("spec", &s.PodSelector)
	v.enum("spec.action", string(s.Action), string(NetworkActionNetem), string(NetworkActionDelay), string(NetworkActionLoss),
		string(NetworkActionDuplicate), string(NetworkActionCorrupt), string(NetworkActionPartition), string(NetworkActionBandwidth))
	if s.Direction != "" {
		v.enum("spec.direction", s.Direction, "to", "from", "both")
	}
	if s.Target != nil {
		v.podSelector("spec.target", s.Target)
	}
	need := map[NetworkChaosAction]struct {
		field string
		set   bool
	}{
		NetworkActionDelay:     {"delay", s.Delay != nil},
		NetworkActionLoss:      {"loss", s.Loss != nil},
		NetworkActionDuplicate: {"duplicate", s.Duplicate != nil},
		NetworkActionCorrupt:   {"corrupt", s.Corrupt != nil},
		NetworkActionBandwidth: {"bandwidth", s.Bandwidth != nil},
	}
	if n, ok := need[s.Action]; ok && !n.set {
		v.add("spec."+n.field, "missing", "action "+string(s.Action)+" needs its parameters in spec."+n.field)
	}
	if d := s.Delay; d != nil {
		v.positiveDuration("spec.delay.latency", d.Latency, "as the added latency")
	}
	if b := s.Bandwidth; b != nil {
		v.required("spec.bandwidth.rate", b.Rate, `set a rate, e.g. rate: "1mbps"`)
		if b.Limit < 1 {
			v.add("spec.bandwidth.limit", "missing", "set the queue size in bytes, e.g. limit: 20971520")
		}
		if b.Buffer < 1 {
			v.add("spec.bandwidth.buffer", "missing", "set the bucket size in bytes, e.g. buffer: 10000")
		}
	}
}
