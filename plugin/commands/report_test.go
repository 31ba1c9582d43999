package commands_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cloudify-chaos/chaosops/plugin/chaos"
	"github.com/cloudify-chaos/chaosops/plugin/internal/chaosbin"
	"github.com/cloudify-chaos/chaosops/plugin/probe"
	"github.com/cloudify-chaos/chaosops/plugin/report"
)

// writeRun writes a report for a run of the given name and verdict,
// started hoursAgo hours before a fixed time.
func writeRun(t *testing.T, root, name string, verdict chaos.Verdict, hoursAgo int) {
	t.Helper()
	started := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC).Add(-time.Duration(hoursAgo) * time.Hour)
	run := &chaos.Result{
		Ref: "HTTPChaos/demo/" + name, Kind: "HTTPChaos", Namespace: "demo", Name: name, RunID: "id-" + name,
		Verdict: verdict, Started: started, Ended: started.Add(40 * time.Second),
		Created: started.Add(time.Second), Injected: started.Add(5 * time.Second), Recovered: started.Add(35 * time.Second),
		Timeline: []chaos.Event{{At: started.Add(time.Second), Step: chaos.StepCreated, Detail: "created"}},
	}
	j := &report.Journal{Version: report.JournalVersion, Verdict: verdict, Run: run,
		Probes:  []probe.Spec{{Name: "web", Kind: probe.HTTP, URL: "http://demo/"}},
		Traffic: []probe.Point{{At: started, Probe: "web", Sent: 5, OK: 5}},
	}
	if _, err := report.Write(filepath.Join(root, name), j); err != nil {
		t.Fatal(err)
	}
}

func TestReportCommands(t *testing.T) {
	root := t.TempDir()
	writeRun(t, root, "httpchaos-old", chaos.VerdictPass, 2)
	writeRun(t, root, "httpchaos-new", chaos.VerdictSLOBreach, 1)
	empty := t.TempDir()

	cases := []struct {
		name   string
		args   []string
		code   int
		stdout []string
		stderr string
	}{
		{"show prints the summary of a run named under --root", []string{"report", "show", "httpchaos-new", "--root", root}, 0,
			[]string{"# HTTPChaos/demo/httpchaos-new: slo_breach", "| Injection window | +5.0s → +35.0s (30.0s) |"}, ""},
		{"show finds a run by its id", []string{"report", "show", "--root", root, "id-httpchaos-old"}, 0, []string{"# HTTPChaos/demo/httpchaos-old: pass"}, ""},
		{"show takes a run directory", []string{"report", "show", filepath.Join(root, "httpchaos-old")}, 0, []string{"**Verdict: `pass`**"}, ""},
		{"show --json prints the journal", []string{"report", "show", "--json", "--root", root, "httpchaos-new"}, 0, []string{`"verdict": "slo_breach"`}, ""},
		{"list shows the runs newest first", []string{"report", "list", "--root", root}, 0, []string{"NAME", "httpchaos-new  slo_breach", "httpchaos-old  pass"}, ""},
		{"list of an empty root says so", []string{"report", "list", "--root", empty}, 0, nil, "no runs under " + empty},
		{"an unknown run says where it looked and how to list runs", []string{"report", "show", "x", "--root", root}, 1, nil,
			`report show: RUN "x": no journal.json in ` + filepath.Join(root, "x") + "; runs are listed by chaosops report list"},
		{"show without RUN is a usage error", []string{"report", "show", "--root", root}, 2, nil, "report show needs one RUN"},
		{"show with two runs is a usage error", []string{"report", "show", "a", "b"}, 2, nil, "got 2 arguments"},
		{"list with an argument is a usage error", []string{"report", "list", "extra"}, 2, nil, "report list takes no arguments"},
		{"an unknown flag is a usage error", []string{"report", "show", "--nope", "x"}, 2, nil, "unknown flag --nope"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out, errb, code := chaosbin.Run(t, tc.args...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tc.code, out, errb)
			}
			for _, w := range tc.stdout {
				if !strings.Contains(out, w) {
					t.Errorf("stdout lacks %q:\n%s", w, out)
				}
			}
			if !strings.Contains(errb, tc.stderr) {
				t.Errorf("stderr %q lacks %q", errb, tc.stderr)
			}
		})
	}

	t.Run("list orders newest first", func(t *testing.T) {
		out, _, _ := chaosbin.Run(t, "report", "list", "--root", root)
		if strings.Index(out, "httpchaos-new") > strings.Index(out, "httpchaos-old") {
			t.Fatalf("older run listed first:\n%s", out)
		}
	})

	t.Run("show --json is the journal, decodable", func(t *testing.T) {
		out, _, _ := chaosbin.Run(t, "report", "show", "--json", "--root", root, "httpchaos-new")
		var j report.Journal
		if err := json.Unmarshal([]byte(out), &j); err != nil || j.Run == nil || j.Run.RunID != "id-httpchaos-new" {
			t.Fatalf("journal %+v, %v", j, err)
		}
	})

	t.Run("the default root is .chaosops/reports in the working directory, or $CHAOSOPS_REPORT_ROOT", func(t *testing.T) {
		wd := t.TempDir()
		writeRun(t, filepath.Join(wd, ".chaosops", "reports"), "httpchaos-here", chaos.VerdictNoEffect, 0)
		run := func(env []string, args ...string) (string, string) {
			cmd := exec.Command(chaosbin.Path(t), args...)
			cmd.Dir = wd
			cmd.Env = append(slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, report.RootEnv+"=") }), env...)
			var out, errb strings.Builder
			cmd.Stdout, cmd.Stderr = &out, &errb
			_ = cmd.Run()
			return out.String(), errb.String()
		}
		if out, errb := run(nil, "report", "show", "httpchaos-here"); !strings.Contains(out, "no_effect") {
			t.Fatalf("stdout %q, stderr %q", out, errb)
		}
		if _, errb := run(nil, "report", "show", "x"); !strings.Contains(errb, `report show: RUN "x": no journal.json in .chaosops/reports/x; runs are listed by chaosops report list`) {
			t.Fatalf("stderr %q", errb)
		}
		if out, _ := run([]string{"CHAOSOPS_REPORT_ROOT=" + root}, "report", "list"); !strings.Contains(out, "httpchaos-old") {
			t.Fatalf("$CHAOSOPS_REPORT_ROOT not used:\n%s", out)
		}
		if out, errb := run([]string{"CHAOSOPS_REPORT_ROOT="}, "report", "list"); !strings.Contains(out, "httpchaos-here") {
			t.Fatalf("an empty $CHAOSOPS_REPORT_ROOT is not the default: stdout %q, stderr %q", out, errb)
		}
	})
}
