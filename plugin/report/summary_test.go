package report

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/cloudify-chaos/chaosops/plugin/probe"
)

func TestSummary(t *testing.T) {
	files := Files{Dir: "/r/httpchaos-3f9c1a2b", Journal: "/r/httpchaos-3f9c1a2b/journal.json", Markdown: "/r/httpchaos-3f9c1a2b/report.md", Chart: "/r/httpchaos-3f9c1a2b/chart.svg"}

	t.Run("the fixture's summary has verdict, window, rates and files", func(t *testing.T) {
		got := roundTrip(t, Summary(fixture(), files))
		want := map[string]any{
			"verdict": "slo_breach",
			"reason":  "probe web: success 10.0 % < 95.0 % during the injection",
			"ref":     "HTTPChaos/demo/httpchaos-3f9c1a2b",
			"run_id":  "3f9c1a2b",
			"samples": 10.0,
			"cleanup": map[string]any{"outcome": "complete"},
			"window":  map[string]any{"from": "2025-01-02T03:04:10Z", "to": "2025-01-02T03:04:40Z", "seconds": 30.0},
			// before: 75/75; during: (30+145)/(300+145); after: 150/150.
			"success_rate": map[string]any{"before": 1.0, "during": 0.3933, "after": 1.0},
			"probes": []any{
				map[string]any{"name": "errors", "phases": map[string]any{"before": map[string]any{"samples": 1.0, "failed": 0.0}, "during": map[string]any{"samples": 3.0, "failed": 3.0}, "after": map[string]any{"samples": 1.0, "failed": 0.0}}},
				map[string]any{"name": "web", "phases": map[string]any{"before": map[string]any{"samples": 1.0, "failed": 0.0}, "during": map[string]any{"samples": 3.0, "failed": 3.0}, "after": map[string]any{"samples": 1.0, "failed": 0.0}}},
			},
			"files": map[string]any{"dir": files.Dir, "journal": files.Journal, "markdown": files.Markdown, "chart": files.Chart},
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Fatalf("summary (-want +got):\n%s", d)
		}
	})

	cases := []struct {
		name string
		j    func() *Journal
	}{
		{"a small run", fixture},
		{"a huge run", huge},
		{"a run without result", func() *Journal { return &Journal{Verdict: "error", Reason: strings.Repeat("é", 10000)} }},
	}
	for _, tc := range cases {
		t.Run(tc.name+" stays under 8 KiB of JSON", func(t *testing.T) {
			data, err := json.Marshal(Summary(tc.j(), Files{Dir: strings.Repeat("d/", 2000), Journal: strings.Repeat("j", 5000), Markdown: strings.Repeat("m", 5000), Chart: strings.Repeat("c", 5000)}))
			if err != nil {
				t.Fatal(err)
			}
			if len(data) >= 8<<10 {
				t.Fatalf("summary is %d bytes", len(data))
			}
			for _, s := range fixtureSecrets {
				if strings.Contains(string(data), s) {
					t.Errorf("summary contains the secret %q", s)
				}
			}
			if !json.Valid(data) || strings.ContainsRune(string(data), '\uFFFD') {
				t.Error("a cut split a character")
			}
		})
	}

	t.Run("probes beyond the bound are counted, not listed", func(t *testing.T) {
		s := Summary(huge(), Files{})
		// 1000 sampled probes besides the fixture's web and errors.
		if s["probes_omitted"] != 1002-maxSummaryProbes || len(s["probes"].([]any)) != maxSummaryProbes {
			t.Fatalf("probes_omitted %v, %d listed", s["probes_omitted"], len(s["probes"].([]any)))
		}
	})
}

// huge is the fixture with 1000 probes of long names, 20 000 samples and
// a long reason.
func huge() *Journal {
	j := fixture()
	j.Reason = strings.Repeat("very long reason ", 1000)
	j.Run.Ref = strings.Repeat("HTTPChaos/ns/name", 100)
	for i := 0; i < 20000; i++ {
		j.Samples = append(j.Samples, probe.Sample{At: at(float64(i % 45)), Probe: fmt.Sprintf("probe-%03d-%s", i%1000, strings.Repeat("x", 200)), Phase: probe.During, Value: 1, Detail: strings.Repeat("d", 100)})
	}
	for i := 0; i < 10000; i++ {
		j.Traffic = append(j.Traffic, probe.Point{At: at(float64(i % 45)), Probe: "web", Sent: 1, OK: 1, P95: time.Millisecond})
	}
	return j
}

func roundTrip(t *testing.T, v any) map[string]any {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestClip(t *testing.T) {
	cases := []struct {
		in   string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"exactly10!", 10, "exactly10!"},
		{"abcdefghijkl", 10, "abcdefg…"},
		{"ééééé", 8, "éé…"},
	}
	for _, tc := range cases {
		if got := clip(tc.in, tc.n); got != tc.want || len(got) > tc.n {
			t.Errorf("clip(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
		}
	}
}

func TestLastRun(t *testing.T) {
	t.Run("the fixture's record has the run, its cleanup and the report summary", func(t *testing.T) {
		j := fixture()
		got := roundTrip(t, LastRun(j, Files{}))
		for _, k := range []string{"ref", "name", "namespace", "kind", "run_id", "verdict", "reason", "started", "created", "injected", "recovered", "deleted", "ended", "targets", "timeline", "cleanup", "report"} {
			if _, ok := got[k]; !ok {
				t.Errorf("chaos_last_run lacks %q: %v", k, got)
			}
		}
		if got["verdict"] != string(j.Run.Verdict) || got["report"].(map[string]any)["verdict"] != string(j.Verdict) {
			t.Errorf("verdicts %v / %v", got["verdict"], got["report"])
		}
	})
	t.Run("a long reason and a long timeline are clipped the same way as the report summary", func(t *testing.T) {
		j := fixture()
		j.Run.Reason = strings.Repeat("é", 3000) + " https://user:secret@example.com/x"
		j.Reason = j.Run.Reason
		for i := 0; i < 100; i++ {
			j.Run.Timeline = append(j.Run.Timeline, j.Run.Timeline[0])
		}
		got := LastRun(j, Files{})
		reason := got["reason"].(string)
		if reason != got["report"].(map[string]any)["reason"] {
			t.Errorf("the two reasons differ:\n%q\n%q", reason, got["report"].(map[string]any)["reason"])
		}
		if len(reason) > maxSummaryText || !utf8.ValidString(reason) || !strings.HasSuffix(reason, "…") {
			t.Errorf("reason not clipped to %d bytes of valid UTF-8: %d bytes, valid %v", maxSummaryText, len(reason), utf8.ValidString(reason))
		}
		if n := len(got["timeline"].([]any)); n != maxLastRunTimeline {
			t.Errorf("timeline has %d steps, want %d", n, maxLastRunTimeline)
		}
		if b, _ := json.Marshal(got); len(b) > 32<<10 {
			t.Errorf("chaos_last_run is %d bytes", len(b))
		}
	})
}
