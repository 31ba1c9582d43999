package report

import (
	"math"
	"sort"
	"time"

	"github.com/cloudify-chaos/chaosops/plugin/probe"
)

// phases are the report's three periods, named like the probe phases:
// before the injection window, within it, and after it.
var phases = []probe.Phase{probe.Before, probe.During, probe.After}

// window returns the injection window of j's run; ok is false when the
// fault was never in place.
func window(j *Journal) (from, to time.Time, ok bool) {
	if j.Run == nil {
		return time.Time{}, time.Time{}, false
	}
	from, to = j.Run.InjectionWindow()
	return from, to, !from.IsZero() && !to.IsZero()
}

// periodOf says in which period a traffic second starting at t falls.
// Without an injection window everything is before.
func periodOf(j *Journal) func(t time.Time) probe.Phase {
	from, to, ok := window(j)
	return func(t time.Time) probe.Phase {
		switch {
		case !ok || t.Before(from):
			return probe.Before
		case t.Before(to):
			return probe.During
		}
		return probe.After
	}
}

// traffic sums the load generator's seconds of one probe in one period.
type traffic struct {
	Seconds, Sent, OK int
}

func (t traffic) add(p probe.Point) traffic {
	return traffic{Seconds: t.Seconds + 1, Sent: t.Sent + p.Sent, OK: t.OK + p.OK}
}

// successRate is OK/Sent; ok is false when nothing was sent.
func (t traffic) successRate() (rate float64, ok bool) {
	if t.Sent == 0 {
		return 0, false
	}
	return float64(t.OK) / float64(t.Sent), true
}

// servedRate is served (OK) requests per second.
func (t traffic) servedRate() float64 { return perSecond(t.OK, t.Seconds) }

// sentRate is requests sent per second.
func (t traffic) sentRate() float64 { return perSecond(t.Sent, t.Seconds) }

func perSecond(n, seconds int) float64 {
	if seconds == 0 {
		return 0
	}
	return float64(n) / float64(seconds)
}

// trafficByProbe returns each probe's traffic per period, and the probe
// names in order.
func trafficByProbe(j *Journal) (map[string]map[probe.Phase]traffic, []string) {
	period := periodOf(j)
	out := map[string]map[probe.Phase]traffic{}
	for _, p := range j.Traffic {
		m := perPhase(out, p.Probe)
		ph := period(p.At)
		m[ph] = m[ph].add(p)
	}
	return out, sortedKeys(out)
}

// trafficByPeriod sums every probe's traffic per period.
func trafficByPeriod(j *Journal) map[probe.Phase]traffic {
	period := periodOf(j)
	out := map[probe.Phase]traffic{}
	for _, p := range j.Traffic {
		ph := period(p.At)
		out[ph] = out[ph].add(p)
	}
	return out
}

// sampleStats summarises one probe's samples in one phase.
type sampleStats struct {
	N, Failed      int
	Min, Max, Mean float64
}

func (s sampleStats) add(x probe.Sample) sampleStats {
	if s.N == 0 {
		s.Min, s.Max = x.Value, x.Value
	}
	s.Min, s.Max = math.Min(s.Min, x.Value), math.Max(s.Max, x.Value)
	s.Mean += (x.Value - s.Mean) / float64(s.N+1)
	s.N++
	if !x.OK {
		s.Failed++
	}
	return s
}

// samplesByProbe returns each probe's sample statistics per phase (the
// phase the probe recorded), and the probe names in order.
func samplesByProbe(j *Journal) (map[string]map[probe.Phase]sampleStats, []string) {
	out := map[string]map[probe.Phase]sampleStats{}
	for _, s := range j.Samples {
		m := perPhase(out, s.Probe)
		m[s.Phase] = m[s.Phase].add(s)
	}
	return out, sortedKeys(out)
}

// perPhase returns the probe's map of phases in byProbe, adding it.
func perPhase[V any](byProbe map[string]map[probe.Phase]V, name string) map[probe.Phase]V {
	m := byProbe[name]
	if m == nil {
		m = map[probe.Phase]V{}
		byProbe[name] = m
	}
	return m
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
