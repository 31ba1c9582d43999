package report

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/cloudify-chaos/chaosops/plugin/chaos"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func TestMarkdown(t *testing.T) {
	t.Run("the fixture renders as the golden report", func(t *testing.T) {
		got := Markdown(fixture())
		golden := filepath.Join("testdata", "report.md")
		if *update {
			if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatalf("%v (run go test -update to create it)", err)
		}
		if d := cmp.Diff(string(want), got); d != "" {
			t.Fatalf("report.md (-golden +got), rerun with -update if intended:\n%s", d)
		}
	})

	cases := []struct {
		name string
		edit func(*Journal)
		want []string
		not  []string
	}{
		{"the verdict and reason come first", func(*Journal) {},
			[]string{"# HTTPChaos/demo/httpchaos-3f9c1a2b: slo_breach\n\n**Verdict: `slo_breach`** — probe web: success 10.0 % < 95.0 %"}, nil},
		{"times are relative to the start", func(*Journal) {}, []string{"| +5.0s | injected |", "| +5.0s → +35.0s (30.0s) |"}, nil},
		{"traffic is summarised per period", func(*Journal) {},
			[]string{"| web | before | 5 | 50 | 50 | 100.0 % | 10.0 | 10.0 |", "| web | during | 30 | 300 | 30 | 10.0 % | 1.0 | 10.0 |", "| web | after | 10 | 100 | 100 | 100.0 % |"}, nil},
		{"samples are summarised per phase", func(*Journal) {}, []string{"| during | 3 | 3 | 10.0 % | 10.0 % | 10.0 % |", "| during | 3 | 3 | 4.5 | 4.5 | 4.5 |"}, nil},
		{"a table cell cannot break the table", func(*Journal) {}, []string{`web breached \| aborting`}, nil},
		{"credentials in URLs are left out", func(*Journal) {}, nil, fixtureSecrets},
		{"a run refused before creation still renders", func(j *Journal) {
			j.Run = &chaos.Result{Verdict: chaos.VerdictPrecheckFailed}
			j.Verdict, j.Reason, j.Traffic, j.Samples = chaos.VerdictPrecheckFailed, "gate probe web failed", nil, nil
		}, []string{"# chaos run: precheck_failed", "none: the fault was never in place"}, []string{"## Timeline", "## Traffic"}},
		{"a run without a result renders", func(j *Journal) { j.Run = nil }, []string{"# chaos run: slo_breach"}, nil},
		{"forced cleanup is flagged", func(j *Journal) { j.Run.RecoveryUnverified = true }, []string{"**unverified**"}, nil},
		{"a complete cleanup is one line", func(*Journal) {},
			[]string{"| Cleanup | `complete`: the controller recovered every target and the object is gone |", "## Cleanup\n\n**Outcome: `complete`**"},
			[]string{"Removed by hand", "Next step"}},
		{"a forced cleanup lists what was removed by hand and what a person must check", func(j *Journal) {
			j.Cleanup = &chaos.Cleanup{Outcome: chaos.CleanupForced, Finalizers: []string{"chaos-mesh/records"},
				Records:       []string{"demo/demo-7d9f-abcde still injected"},
				RemovedByHand: []string{"HTTPChaos/demo/httpchaos-3f9c1a2b: finalizers [chaos-mesh/records] removed with a patch", "PodHttpChaos/demo/demo-7d9f-abcde: removed 1 entry of source demo/httpchaos-3f9c1a2b"},
				Check:         []string{"demo/demo-7d9f-abcde still injected (HTTPChaos): the controller never confirmed its recovery | restart it"}}
		}, []string{"| Cleanup | `forced`: the object is gone without the controller's recovery",
			"**Outcome: `forced`**", "Finalizers forced off:\n\n- `chaos-mesh/records`\n",
			"Records not recovered:\n\n- demo/demo-7d9f-abcde still injected\n",
			"Removed by hand:\n\n- HTTPChaos/demo/httpchaos-3f9c1a2b: finalizers [chaos-mesh/records] removed with a patch\n- PodHttpChaos/demo/demo-7d9f-abcde: removed 1 entry of source demo/httpchaos-3f9c1a2b\n",
			"A person must check:\n\n- demo/demo-7d9f-abcde still injected (HTTPChaos): the controller never confirmed its recovery | restart it\n"},
			[]string{"Next step"}},
		{"an incomplete cleanup names the finalizer and the next step", func(j *Journal) {
			j.Cleanup = &chaos.Cleanup{Outcome: chaos.CleanupIncomplete, Finalizers: []string{"chaos-mesh/records"},
				Next: "reap it with force_cleanup (chaosops chaos reap -n demo --run 3f9c1a2b --force-cleanup; in Cloudify chaos_actions.reap with force_cleanup: true)"}
		}, []string{"| Cleanup | `incomplete`: **the chaos object is still there**", "Held by finalizers:\n\n- `chaos-mesh/records`\n",
			"**Next step:** reap it with force_cleanup (chaosops chaos reap -n demo --run 3f9c1a2b --force-cleanup; in Cloudify chaos_actions.reap with force_cleanup: true)"},
			[]string{"Finalizers forced off"}},
		{"credentials in URLs of the cleanup are left out", func(j *Journal) {
			j.Cleanup = &chaos.Cleanup{Outcome: chaos.CleanupForced, Check: []string{"probe http://probe:s3cret-pass@demo.demo.svc:8080/ still fails"}}
		}, []string{"probe http://demo.demo.svc:8080/ still fails"}, fixtureSecrets},
		{"a journal with the outcome only in its run still shows it", func(j *Journal) {
			j.Cleanup, j.Run.Cleanup = nil, &chaos.Cleanup{Outcome: chaos.CleanupForced}
		}, []string{"**Outcome: `forced`**"}, nil},
		{"a run that created nothing needed no cleanup", func(j *Journal) {
			j.Cleanup, j.Run = nil, &chaos.Result{Verdict: chaos.VerdictPrecheckFailed}
		}, []string{"| Cleanup | none needed: nothing was created |"}, []string{"## Cleanup"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			j := fixture()
			tc.edit(j)
			md := Markdown(j)
			for _, w := range tc.want {
				if !strings.Contains(md, w) {
					t.Errorf("missing %q in:\n%s", w, md)
				}
			}
			for _, n := range tc.not {
				if strings.Contains(md, n) {
					t.Errorf("contains %q", n)
				}
			}
		})
	}
}
