package probe

import "time"

// Phase is when a probe is evaluated relative to the injection.
type Phase string

// Phases of a run.
const (
	// Before gates the run: a failing before-probe refuses it
	// (verdict precheck_failed) and nothing is created.
	Before Phase = "before"
	// During is every Interval while the fault is in place.
	During Phase = "during"
	// After is within the settle window once the object is gone: the
	// probe must pass again (else recovered_but_degraded).
	After Phase = "after"
)

// Expect says what a probe should do during the injection.
type Expect string

// Expectations during the injection.
const (
	// MustHold: a failing sample aborts the run (slo_breach) by deleting
	// the chaos object.
	MustHold Expect = "must_hold"
	// Deviate: the probe is expected to fail at least once; if it never
	// does the fault had no effect (no_effect).
	Deviate Expect = "deviate"
)

// Kind of probe.
type Kind string

// Probe kinds.
const (
	HTTP   Kind = "http"
	PromQL Kind = "promql"
)

// Spec describes one probe. Inputs and CLI flags decode into it; New
// validates it and fills defaults.
type Spec struct {
	Name   string  `json:"name" yaml:"name"`
	Kind   Kind    `json:"kind" yaml:"kind"`
	Phases []Phase `json:"phases,omitempty" yaml:"phases"` // default: before, during, after
	During Expect  `json:"during,omitempty" yaml:"during"` // default must_hold
	// Interval between during-phase evaluations (default 5s).
	Interval time.Duration `json:"interval,omitempty" yaml:"interval"`

	// HTTP: the load generator sends RPS requests per second (default 5,
	// at most MaxRPS) to URL; a sample is the success rate over Window
	// (default 10s), which passes when it is at least MinSuccess (default
	// 0.95). A success is a status in [StatusMin, StatusMax] (default
	// 200–399) within Timeout (default 2s).
	URL        string        `json:"url,omitempty" yaml:"url"`
	Method     string        `json:"method,omitempty" yaml:"method"`
	StatusMin  int           `json:"status_min,omitempty" yaml:"status_min"`
	StatusMax  int           `json:"status_max,omitempty" yaml:"status_max"`
	Timeout    time.Duration `json:"timeout,omitempty" yaml:"timeout"`
	RPS        float64       `json:"rps,omitempty" yaml:"rps"`
	Window     time.Duration `json:"window,omitempty" yaml:"window"`
	MinSuccess float64       `json:"min_success,omitempty" yaml:"min_success"`
	// MaxInFlight bounds the requests the load generator has open at once
	// (default 2 × RPS × Timeout, within 4..InFlightLimit); a request due
	// while all are taken is not sent and counts as failed.
	MaxInFlight int `json:"max_in_flight,omitempty" yaml:"max_in_flight"`

	// PromQL: Query is evaluated as an instant query within Timeout
	// (default 10s); a sample passes when every series' value compares
	// true with Threshold (an empty result fails). Comparator is one of
	// > >= < <= == !=. CAFile and InsecureSkipTLSVerify apply to the
	// HTTP probe's URL as well.
	Query         string  `json:"query,omitempty" yaml:"query"`
	Comparator    string  `json:"comparator,omitempty" yaml:"comparator"`
	Threshold     float64 `json:"threshold,omitempty" yaml:"threshold"`
	PrometheusURL string  `json:"prometheus_url,omitempty" yaml:"prometheus_url"`
	// BearerToken is never written to a journal or log.
	BearerToken           string `json:"-" yaml:"bearer_token"`
	CAFile                string `json:"ca_file,omitempty" yaml:"ca_file"`
	InsecureSkipTLSVerify bool   `json:"insecure_skip_tls_verify,omitempty" yaml:"insecure_skip_tls_verify"`
}

// MaxRPS bounds the request rate of one HTTP probe's load generator.
const MaxRPS = 200

// InFlightLimit bounds Spec.MaxInFlight.
const InFlightLimit = 64

// Sample is one evaluation of a probe.
type Sample struct {
	At    time.Time `json:"at"`
	Probe string    `json:"probe"`
	Phase Phase     `json:"phase"`
	OK    bool      `json:"ok"`
	// Value is the success rate (0..1) of an HTTP probe or the first
	// series' value of a PromQL probe.
	Value  float64 `json:"value"`
	Detail string  `json:"detail,omitempty"`
}

// Point is one second of one HTTP probe's load-generator traffic.
type Point struct {
	At    time.Time `json:"at"` // start of the second
	Probe string    `json:"probe"`
	// Sent counts the requests due in this second whose outcome is known,
	// Dropped included; OK those that succeeded.
	Sent int `json:"sent"`
	OK   int `json:"ok"`
	// Dropped counts the requests not sent because MaxInFlight requests
	// were still open (each also counts as sent and failed).
	Dropped int `json:"dropped,omitempty"`
	// P95 is the 95th percentile latency of the requests sent in this
	// second (failures included, drops not).
	P95 time.Duration `json:"p95_ns"`
}
