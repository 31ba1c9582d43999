package report

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/cloudify-chaos/chaosops/plugin/chaos"
	"github.com/cloudify-chaos/chaosops/plugin/chaos/api"
	"github.com/cloudify-chaos/chaosops/plugin/probe"
)

// Markdown renders the run's summary: the verdict and its reason first,
// then the object, the spec, the timeline (times relative to the start),
// the cleanup outcome (what chaosops removed by hand, what a person must
// check, the next step), the targets and their records, each probe with its samples per phase,
// and the traffic before, during and after the injection. URL credentials
// are left out.
func Markdown(j *Journal) string {
	j = sanitized(j)
	var b strings.Builder
	run := j.Run
	if run == nil {
		run = &chaos.Result{}
	}
	title := run.Ref
	if title == "" {
		title = "chaos run"
	}
	fmt.Fprintf(&b, "# %s: %s\n\n", title, j.Verdict)
	fmt.Fprintf(&b, "**Verdict: `%s`**", j.Verdict)
	if j.Reason != "" {
		fmt.Fprintf(&b, " — %s", oneLine(j.Reason))
	}
	b.WriteString("\n\n")
	writeOverview(&b, j, run)
	writeSpec(&b, run)
	writeTimeline(&b, run)
	writeCleanup(&b, cleanupOf(j))
	writeTargets(&b, run)
	writeProbes(&b, j)
	writeTraffic(&b, j)
	fmt.Fprintf(&b, "## Chart\n\n![success rate and request rate over time](%s)\n", ChartFile)
	return b.String()
}

func writeOverview(b *strings.Builder, j *Journal, run *chaos.Result) {
	rows := [][2]string{
		{"Object", code(run.Ref)},
		{"Run id", code(run.RunID)},
		{"Started", stamp(run.Started)},
		{"Ended", stamp(run.Ended)},
	}
	if !run.Started.IsZero() && !run.Ended.IsZero() {
		rows = append(rows, [2]string{"Duration", seconds(run.Ended.Sub(run.Started))})
	}
	if from, to, ok := window(j); ok {
		start := startOf(run)
		rows = append(rows, [2]string{"Injection window", fmt.Sprintf("%s → %s (%s)", rel(start, from), rel(start, to), seconds(to.Sub(from)))})
	} else {
		rows = append(rows, [2]string{"Injection window", "none: the fault was never in place"})
	}
	if cl := cleanupOf(j); cl != nil {
		rows = append(rows, [2]string{"Cleanup", fmt.Sprintf("`%s`: %s", cl.Outcome, cleanupWords(cl.Outcome))})
	} else if run.Created.IsZero() {
		rows = append(rows, [2]string{"Cleanup", "none needed: nothing was created"})
	}
	if run.RecoveryUnverified {
		rows = append(rows, [2]string{"Recovery", "**unverified**: the finalizer was forced off, the fault may still be in place"})
	}
	b.WriteString("| | |\n|---|---|\n")
	for _, r := range rows {
		fmt.Fprintf(b, "| %s | %s |\n", r[0], r[1])
	}
	b.WriteString("\n")
}

func writeSpec(b *strings.Builder, run *chaos.Result) {
	if run.Spec == nil {
		return
	}
	b.WriteString("## Spec\n\n")
	fmt.Fprintf(b, "- kind: %s\n", run.Spec.Kind())
	if d := run.Spec.Common().Duration; d != nil {
		fmt.Fprintf(b, "- duration: %s\n", *d)
	}
	for _, t := range run.Spec.Targets() {
		if t.Selector != nil {
			fmt.Fprintf(b, "- selector `%s`: %s\n", t.Key, describeSelector(t.Selector))
		}
	}
	if data, err := json.MarshalIndent(run.Spec, "", "  "); err == nil {
		fmt.Fprintf(b, "\n<details><summary>spec as created</summary>\n\n```json\n%s\n```\n\n</details>\n", data)
	}
	b.WriteString("\n")
}

func describeSelector(s *api.PodSelector) string {
	parts := []string{"mode " + string(s.Mode)}
	if s.Value != "" {
		parts[0] += " " + s.Value
	}
	if len(s.Selector.Namespaces) > 0 {
		parts = append(parts, "namespaces "+strings.Join(s.Selector.Namespaces, ","))
	}
	if len(s.Selector.LabelSelectors) > 0 {
		parts = append(parts, "labels "+pairs(s.Selector.LabelSelectors))
	}
	if len(s.Selector.Pods) > 0 {
		parts = append(parts, fmt.Sprintf("%d named pods", len(s.Selector.Pods)))
	}
	return strings.Join(parts, ", ")
}

func pairs(m map[string]string) string {
	keys := sortedKeys(m)
	for i, k := range keys {
		keys[i] = k + "=" + m[k]
	}
	return strings.Join(keys, ",")
}

func writeTimeline(b *strings.Builder, run *chaos.Result) {
	if len(run.Timeline) == 0 {
		return
	}
	start := startOf(run)
	b.WriteString("## Timeline\n\n| time | step | detail |\n|---:|---|---|\n")
	for _, e := range run.Timeline {
		fmt.Fprintf(b, "| %s | %s | %s |\n", rel(start, e.At), e.Step, cell(e.Detail))
	}
	b.WriteString("\n")
}

// cleanupOf is the journal's cleanup outcome; a journal written before it
// had one at the top level still has the run's.
func cleanupOf(j *Journal) *chaos.Cleanup {
	if j.Cleanup == nil && j.Run != nil {
		return j.Run.Cleanup
	}
	return j.Cleanup
}

// cleanupWords says what a cleanup outcome means.
func cleanupWords(o chaos.CleanupOutcome) string {
	switch o {
	case chaos.CleanupComplete:
		return "the controller recovered every target and the object is gone"
	case chaos.CleanupForced:
		return "the object is gone without the controller's recovery; chaosops removed what is listed below by hand"
	case chaos.CleanupIncomplete:
		return "**the chaos object is still there**; see the next step below"
	}
	return string(o)
}

// writeCleanup lists how the object went away: the finalizers, the
// records not recovered, what chaosops removed by hand, what a person
// must check and the next step. A complete cleanup has nothing to list.
func writeCleanup(b *strings.Builder, cl *chaos.Cleanup) {
	if cl == nil {
		return
	}
	b.WriteString("## Cleanup\n\n")
	fmt.Fprintf(b, "**Outcome: `%s`** — %s.\n\n", cl.Outcome, cleanupWords(cl.Outcome))
	list := func(title string, items []string, asCode bool) {
		if len(items) == 0 {
			return
		}
		fmt.Fprintf(b, "%s:\n\n", title)
		for _, it := range items {
			if asCode {
				it = code(it)
			} else {
				it = oneLine(it)
			}
			fmt.Fprintf(b, "- %s\n", it)
		}
		b.WriteString("\n")
	}
	finalizers := "Finalizers forced off"
	if cl.Outcome == chaos.CleanupIncomplete {
		finalizers = "Held by finalizers"
	}
	list(finalizers, cl.Finalizers, true)
	list("Records not recovered", cl.Records, false)
	list("Removed by hand", cl.RemovedByHand, false)
	list("A person must check", cl.Check, false)
	if cl.Next != "" {
		fmt.Fprintf(b, "**Next step:** %s\n\n", oneLine(cl.Next))
	}
}

func writeTargets(b *strings.Builder, run *chaos.Result) {
	if len(run.Targets) == 0 {
		return
	}
	b.WriteString("## Targets\n\n| record | selector | phase | injected | recovered | last attempt |\n|---|---|---|---:|---:|---|\n")
	for _, r := range run.Targets {
		last := ""
		if n := len(r.Events); n > 0 {
			e := r.Events[n-1]
			last = fmt.Sprintf("%s %s %s", e.Operation, e.Type, stamp(e.Timestamp.Time))
			if e.Message != "" {
				last += ": " + e.Message
			}
		}
		fmt.Fprintf(b, "| %s | %s | %s | %d | %d | %s |\n", cell(r.Id), cell(r.SelectorKey), r.Phase, r.InjectedCount, r.RecoveredCount, cell(last))
	}
	b.WriteString("\n")
}

func writeProbes(b *strings.Builder, j *Journal) {
	stats, sampled := samplesByProbe(j)
	// The probes in the order they were given, then any probe that only
	// left samples.
	var names []string
	specs := map[string]probe.Spec{}
	for _, p := range j.Probes {
		specs[p.Name] = p
		names = append(names, p.Name)
	}
	for _, name := range sampled {
		if _, ok := specs[name]; !ok {
			names = append(names, name)
		}
	}
	if len(names) == 0 {
		return
	}
	b.WriteString("## Probes\n\n")
	for _, name := range names {
		spec, known := specs[name]
		fmt.Fprintf(b, "### %s", name)
		if known {
			fmt.Fprintf(b, " (%s)\n\n%s\n\n", spec.Kind, describeProbe(spec))
		} else {
			b.WriteString("\n\n")
		}
		b.WriteString("| phase | samples | failed | min | avg | max |\n|---|---:|---:|---:|---:|---:|\n")
		for _, ph := range phases {
			s, ok := stats[name][ph]
			if !ok {
				fmt.Fprintf(b, "| %s | 0 | | | | |\n", ph)
				continue
			}
			fv := valueFormat(spec)
			fmt.Fprintf(b, "| %s | %d | %d | %s | %s | %s |\n", ph, s.N, s.Failed, fv(s.Min), fv(s.Mean), fv(s.Max))
		}
		b.WriteString("\n")
	}
}

// valueFormat shows HTTP success rates as percentages and PromQL values
// as they are.
func valueFormat(p probe.Spec) func(float64) string {
	if p.Kind == probe.HTTP {
		return percent
	}
	return func(v float64) string { return fmt.Sprintf("%.4g", v) }
}

func describeProbe(p probe.Spec) string {
	var parts []string
	switch p.Kind {
	case probe.HTTP:
		method := p.Method
		if method == "" {
			method = "GET"
		}
		parts = append(parts, fmt.Sprintf("`%s %s`", method, p.URL))
		if p.StatusMin != 0 || p.StatusMax != 0 {
			parts = append(parts, fmt.Sprintf("status %d–%d", p.StatusMin, p.StatusMax))
		}
		if p.Timeout > 0 {
			parts = append(parts, "timeout "+p.Timeout.String())
		}
		if p.RPS > 0 {
			parts = append(parts, fmt.Sprintf("%g requests/s", p.RPS))
		}
		if p.MinSuccess > 0 {
			parts = append(parts, "passes at "+percent(p.MinSuccess)+" success")
		}
		if p.Window > 0 {
			parts = append(parts, "over "+p.Window.String())
		}
	case probe.PromQL:
		parts = append(parts, fmt.Sprintf("`%s` %s %g", p.Query, p.Comparator, p.Threshold))
		if p.PrometheusURL != "" {
			parts = append(parts, "at "+p.PrometheusURL)
		}
	}
	if len(p.Phases) > 0 {
		ph := make([]string, len(p.Phases))
		for i, x := range p.Phases {
			ph[i] = string(x)
		}
		parts = append(parts, "phases "+strings.Join(ph, ", "))
	}
	if p.During != "" {
		parts = append(parts, "during: "+string(p.During))
	}
	if p.Interval > 0 {
		parts = append(parts, "every "+p.Interval.String())
	}
	return strings.Join(parts, "; ")
}

func writeTraffic(b *strings.Builder, j *Journal) {
	byProbe, names := trafficByProbe(j)
	if len(names) == 0 {
		return
	}
	b.WriteString("## Traffic\n\nRequests of the probes' load generators, before, during and after the injection window.\n\n")
	b.WriteString("| probe | period | seconds | sent | served | success rate | served/s | sent/s |\n|---|---|---:|---:|---:|---:|---:|---:|\n")
	for _, name := range names {
		for _, ph := range phases {
			t := byProbe[name][ph]
			rate := "–"
			if r, ok := t.successRate(); ok {
				rate = percent(r)
			}
			fmt.Fprintf(b, "| %s | %s | %d | %d | %d | %s | %.1f | %.1f |\n", cell(name), ph, t.Seconds, t.Sent, t.OK, rate, t.servedRate(), t.sentRate())
		}
	}
	b.WriteString("\n")
}

// startOf is the time the report's relative times count from.
func startOf(run *chaos.Result) time.Time {
	if !run.Started.IsZero() {
		return run.Started
	}
	if len(run.Timeline) > 0 {
		return run.Timeline[0].At
	}
	return time.Time{}
}

func rel(start, t time.Time) string {
	if t.IsZero() {
		return "–"
	}
	return fmt.Sprintf("%+.1fs", t.Sub(start).Seconds())
}

func seconds(d time.Duration) string { return fmt.Sprintf("%.1fs", d.Seconds()) }

func stamp(t time.Time) string {
	if t.IsZero() {
		return "–"
	}
	return t.UTC().Format(time.RFC3339)
}

func percent(v float64) string { return fmt.Sprintf("%.1f %%", 100*v) }

func code(s string) string {
	if s == "" {
		return "–"
	}
	return "`" + s + "`"
}

// cell makes s safe inside a Markdown table cell.
func cell(s string) string { return strings.ReplaceAll(oneLine(s), "|", `\|`) }

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
