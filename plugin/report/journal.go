package report

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	"github.com/cloudify-chaos/chaosops/plugin/chaos"
	"github.com/cloudify-chaos/chaosops/plugin/chaos/api"
	"github.com/cloudify-chaos/chaosops/plugin/probe"
)

// JournalVersion is bumped when the journal's shape changes incompatibly.
const JournalVersion = 1

// Journal is everything a run did, written as DIR/journal.json.
type Journal struct {
	Version int           `json:"version"`
	Verdict chaos.Verdict `json:"verdict"`
	Reason  string        `json:"reason,omitempty"`
	// Cleanup is how the run's chaos object went away (complete, forced)
	// or that it did not (incomplete), what chaosops removed by hand, what
	// a person must check and the next step: Run.Cleanup, at the top level
	// like the verdict. Nil when nothing was created.
	Cleanup *chaos.Cleanup `json:"cleanup,omitempty"`
	// Run is the lifecycle result: spec, targets with their records, and
	// the time of every condition change (timeline).
	Run     *chaos.Result  `json:"run"`
	Probes  []probe.Spec   `json:"probes,omitempty"`
	Samples []probe.Sample `json:"samples,omitempty"`
	Traffic []probe.Point  `json:"traffic,omitempty"`
}

// UnmarshalJSON decodes a journal. The run's spec is an interface
// (api.Spec), so its concrete type is chosen from run.kind before decoding.
func (j *Journal) UnmarshalJSON(data []byte) error {
	type plain Journal
	var raw struct {
		plain
		Run json.RawMessage `json:"run"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return err
	}
	*j = Journal(raw.plain)
	run, err := decodeResult(raw.Run)
	if err != nil {
		return fmt.Errorf("run: %w", err)
	}
	j.Run = run
	return nil
}

func decodeResult(data json.RawMessage) (*chaos.Result, error) {
	if len(data) == 0 || string(data) == "null" {
		return nil, nil
	}
	var head struct {
		Kind string          `json:"kind"`
		Spec json.RawMessage `json:"spec"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return nil, err
	}
	r := &chaos.Result{}
	if len(head.Spec) > 0 && string(head.Spec) != "null" {
		k, ok := api.KindNamed(head.Kind)
		if !ok {
			return nil, fmt.Errorf("kind %q is not a chaos kind (one of %s), so its spec cannot be read", head.Kind, strings.Join(api.KindNames(), ", "))
		}
		// json decodes into the pointer an interface already holds.
		r.Spec = k.NewSpec()
	}
	if err := json.Unmarshal(data, r); err != nil {
		return nil, err
	}
	return r, nil
}

// userinfo matches the user:password@ part of URLs inside any text, such
// as a probe URL or an error quoting one.
var userinfo = regexp.MustCompile(`([A-Za-z][A-Za-z0-9+.-]*://)[^/?#\s"'@]*(?:@[^/?#\s"'@]*)*@`)

// stripUserinfo removes credentials embedded in URLs from s.
func stripUserinfo(s string) string {
	if !strings.Contains(s, "@") {
		return s
	}
	return userinfo.ReplaceAllString(s, "${1}")
}

// sanitized returns a copy of j with URL credentials removed from every
// field that can carry them and the spec's secret-looking values masked
// (api.Redacted); j is not modified. Bearer tokens never reach
// a journal (probe.Spec.BearerToken is json:"-").
func sanitized(j *Journal) *Journal {
	c := *j
	c.Reason = stripUserinfo(j.Reason)
	c.Cleanup = sanitizedCleanup(j.Cleanup)
	if j.Run != nil {
		run := *j.Run
		run.Spec = api.Redacted(j.Run.Spec)
		run.Reason = stripUserinfo(run.Reason)
		run.Cleanup = sanitizedCleanup(run.Cleanup)
		run.Timeline = make([]chaos.Event, len(j.Run.Timeline))
		for i, e := range j.Run.Timeline {
			e.Detail = stripUserinfo(e.Detail)
			run.Timeline[i] = e
		}
		c.Run = &run
	}
	c.Probes = make([]probe.Spec, len(j.Probes))
	for i, p := range j.Probes {
		p.URL, p.PrometheusURL, p.BearerToken = stripUserinfo(p.URL), stripUserinfo(p.PrometheusURL), ""
		c.Probes[i] = p
	}
	c.Samples = make([]probe.Sample, len(j.Samples))
	for i, s := range j.Samples {
		s.Detail = stripUserinfo(s.Detail)
		c.Samples[i] = s
	}
	return &c
}

// sanitizedCleanup returns a copy of cl with URL credentials removed from
// its texts.
func sanitizedCleanup(cl *chaos.Cleanup) *chaos.Cleanup {
	if cl == nil {
		return nil
	}
	c := *cl
	strip := func(l []string) []string {
		if l == nil {
			return nil
		}
		out := make([]string, len(l))
		for i, s := range l {
			out[i] = stripUserinfo(s)
		}
		return out
	}
	c.Records, c.RemovedByHand, c.Check, c.Next = strip(cl.Records), strip(cl.RemovedByHand), strip(cl.Check), stripUserinfo(cl.Next)
	return &c
}
