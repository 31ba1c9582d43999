package report

import (
	"math"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/cloudify-chaos/chaosops/plugin/chaos"
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

// maxLastRunTimeline bounds the timeline kept in LastRun.
const maxLastRunTimeline = 30

// LastRun is the one record of a run kept in runtime property
// chaos_last_run: the run's ids, verdict, reason, timestamps, targets, the
// first timeline steps and the cleanup outcome, with Summary under
// "report". Every text is clipped as in Summary, so the record stays small
// whatever the run.
func LastRun(j *Journal, files Files) map[string]any {
	s := map[string]any{"report": Summary(j, files)}
	r := j.Run
	if r == nil {
		s["verdict"], s["reason"] = string(j.Verdict), clip(stripUserinfo(j.Reason), maxSummaryText)
		return s
	}
	tl := make([]any, 0, min(len(r.Timeline), maxLastRunTimeline))
	for _, e := range r.Timeline[:min(len(r.Timeline), maxLastRunTimeline)] {
		tl = append(tl, map[string]any{"at": e.At.UTC().Format(time.RFC3339Nano), "step": string(e.Step), "detail": clip(stripUserinfo(e.Detail), maxSummaryText)})
	}
	ts := func(t time.Time) any {
		if t.IsZero() {
			return nil
		}
		return t.UTC().Format(time.RFC3339Nano)
	}
	targets := make([]any, 0, len(r.Targets))
	for _, t := range r.Targets {
		targets = append(targets, map[string]any{"id": t.Id, "phase": string(t.Phase), "injected": t.InjectedCount, "recovered": t.RecoveredCount})
	}
	for k, v := range map[string]any{
		"ref": r.Ref, "name": r.Name, "namespace": r.Namespace, "kind": r.Kind, "run_id": r.RunID,
		"verdict": string(r.Verdict), "reason": clip(stripUserinfo(r.Reason), maxSummaryText), "recovery_unverified": r.RecoveryUnverified,
		"started": ts(r.Started), "created": ts(r.Created), "injected": ts(r.Injected), "recovered": ts(r.Recovered),
		"deleted": ts(r.Deleted), "ended": ts(r.Ended), "targets": targets, "timeline": tl, "cleanup": CleanupSummary(r.Cleanup),
	} {
		s[k] = v
	}
	return s
}

// CleanupSummary is a cleanup outcome for runtime properties, whole (nil
// when nothing was created): what is left and what to check must all be
// there.
func CleanupSummary(cl *chaos.Cleanup) any {
	if cl == nil {
		return nil
	}
	return map[string]any{
		"outcome": string(cl.Outcome), "finalizers": anyList(cl.Finalizers), "records": anyList(cl.Records),
		"removed_by_hand": anyList(cl.RemovedByHand), "check": anyList(cl.Check), "next": cl.Next,
	}
}

func anyList(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}
