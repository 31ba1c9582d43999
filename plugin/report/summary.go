package report

import (
	"math"
	"strings"
	"time"
	"unicode/utf8"
)

// Bounds that keep Summary small whatever the run's size.
const (
	maxSummaryText   = 512 // reason, ref, paths
	maxSummaryProbes = 8
	maxSummaryName   = 64
)

// Summary returns a size-bounded summary of the run (well under 8 KiB as
// JSON, whatever the number of probes, samples or targets) for runtime
// properties: verdict, reason, object ref, injection window, the traffic
// success rate per period, per-probe sample counts per phase, the cleanup
// outcome (with the next step when incomplete), and the report's file
// paths. The full record is the journal.
func Summary(j *Journal, files Files) map[string]any {
	s := map[string]any{
		"verdict": string(j.Verdict),
		"samples": len(j.Samples),
	}
	if j.Reason != "" {
		s["reason"] = clip(stripUserinfo(j.Reason), maxSummaryText)
	}
	if run := j.Run; run != nil {
		s["ref"] = clip(run.Ref, maxSummaryText)
		s["run_id"] = clip(run.RunID, maxSummaryName)
		if run.RecoveryUnverified {
			s["recovery_unverified"] = true
		}
	}
	if cl := cleanupOf(j); cl != nil {
		c := map[string]any{"outcome": string(cl.Outcome)}
		if cl.Next != "" {
			c["next"] = clip(stripUserinfo(cl.Next), maxSummaryText)
		}
		s["cleanup"] = c
	}
	if from, to, ok := window(j); ok {
		s["window"] = map[string]any{
			"from":    from.UTC().Format(time.RFC3339Nano),
			"to":      to.UTC().Format(time.RFC3339Nano),
			"seconds": round(to.Sub(from).Seconds(), 1),
		}
	}
	if len(j.Traffic) > 0 {
		rates := map[string]any{}
		for ph, t := range trafficByPeriod(j) {
			if r, ok := t.successRate(); ok {
				rates[string(ph)] = round(r, 4)
			}
		}
		s["success_rate"] = rates
	}
	stats, names := samplesByProbe(j)
	if len(names) > maxSummaryProbes {
		s["probes_omitted"] = len(names) - maxSummaryProbes
		names = names[:maxSummaryProbes]
	}
	if len(names) > 0 {
		probes := make([]any, 0, len(names))
		for _, name := range names {
			ph := map[string]any{}
			for _, p := range phases {
				if st, ok := stats[name][p]; ok {
					ph[string(p)] = map[string]any{"samples": st.N, "failed": st.Failed}
				}
			}
			probes = append(probes, map[string]any{"name": clip(name, maxSummaryName), "phases": ph})
		}
		s["probes"] = probes
	}
	if files.Dir != "" {
		s["files"] = map[string]any{
			"dir":      clip(files.Dir, maxSummaryText),
			"journal":  clip(files.Journal, maxSummaryText),
			"markdown": clip(files.Markdown, maxSummaryText),
			"chart":    clip(files.Chart, maxSummaryText),
		}
	}
	return s
}

// clip shortens s to at most n bytes without splitting a character,
// marking the cut with an ellipsis.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	const ellipsis = "…"
	cut := n - len(ellipsis)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return strings.ToValidUTF8(s[:cut], "") + ellipsis
}

func round(v float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(v*p) / p
}
