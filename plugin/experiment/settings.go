package experiment

import (
	"bytes"
	"errors"
	"fmt"
	"time"

	"github.com/cloudify-chaos/chaosops/plugin/probe"
	"github.com/cloudify-chaos/chaosops/plugin/yamllimit"
)

// Defaults of the ProbeSettings shorthands that probe.Spec leaves to its
// caller.
const (
	DefaultExpect     = probe.Deviate // the HTTP probe calls the faulted path
	DefaultComparator = ">="
	DefaultPromExpect = probe.MustHold
)

// ProbeSettings are the one-HTTP-probe and one-PromQL-probe shorthands that
// the CLI flags (--probe-url, --promql, ...) and the operation inputs
// (probe_url, promql, ...) share; Extra holds fully specified probes (the
// probes input, --probes-file).
type ProbeSettings struct {
	URL        string
	Method     string
	RPS        float64
	Window     time.Duration
	Interval   time.Duration
	MinSuccess float64
	// Expect is what the HTTP probe does during the injection: deviate (it
	// calls the faulted path, so failures prove the fault) or must_hold.
	Expect string

	PromQL          string
	Comparator      string
	Threshold       float64
	PromExpect      string
	PrometheusURL   string
	PrometheusToken string
	PrometheusCA    string

	Extra []probe.Spec
}

// Specs returns the probes the settings describe; New validates them.
func (p ProbeSettings) Specs() []probe.Spec {
	specs := append([]probe.Spec{}, p.Extra...)
	if p.URL != "" {
		specs = append(specs, probe.Spec{
			Name: "http", Kind: probe.HTTP, URL: p.URL, Method: p.Method, RPS: p.RPS,
			Window: p.Window, Interval: p.Interval, MinSuccess: p.MinSuccess, During: probe.Expect(p.Expect),
		})
	}
	if p.PromQL != "" {
		specs = append(specs, probe.Spec{
			Name: "promql", Kind: probe.PromQL, Query: p.PromQL, Comparator: p.Comparator, Threshold: p.Threshold,
			During: probe.Expect(p.PromExpect), Interval: p.Interval, PrometheusURL: p.PrometheusURL,
			BearerToken: p.PrometheusToken, CAFile: p.PrometheusCA,
		})
	}
	// The shorthands' Prometheus settings also serve listed PromQL probes
	// that name none, so a token is given once.
	for i := range specs {
		s := &specs[i]
		if s.Kind != probe.PromQL {
			continue
		}
		if s.PrometheusURL == "" {
			s.PrometheusURL = p.PrometheusURL
		}
		if s.BearerToken == "" {
			s.BearerToken = p.PrometheusToken
		}
		if s.CAFile == "" {
			s.CAFile = p.PrometheusCA
		}
	}
	return specs
}

// ParseProbes reads a YAML or JSON list of probe specs (field names as in
// probe.Spec's yaml tags, durations like 5s). Unknown fields are errors, so
// a typo does not silently drop a guard.
func ParseProbes(raw []byte) ([]probe.Spec, error) {
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil, nil
	}
	var specs []probe.Spec
	if err := yamllimit.UnmarshalStrict("probes", raw, &specs); err != nil {
		// The caller names the input or flag; say only the line.
		msg := err.Error()
		var le *yamllimit.Error
		if errors.As(err, &le) {
			msg = le.Msg
			if le.Line > 0 {
				msg = fmt.Sprintf("line %d: %s", le.Line, le.Msg)
			}
		}
		return nil, fmt.Errorf("%s; give a list of {name, kind: http|promql, ...}", msg)
	}
	var errs []error
	for i, s := range specs {
		if s.Name == "" {
			errs = append(errs, fmt.Errorf("probes[%d].name: not set; give each probe a unique name", i))
		}
	}
	return specs, errors.Join(errs...)
}
