package terraform

import (
	"log/slog"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestEvents(t *testing.T) {
	rec := &logRecorder{}
	log := slog.New(slog.NewTextHandler(rec, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ev := newEvents(log, slog.LevelInfo)
	stream := strings.Join([]string{
		`{"@level":"info","@message":"Terraform 1.11.4","type":"version","terraform":"1.11.4"}`,
		`{"@level":"info","@message":"b.x: Plan to create","type":"planned_change","change":{"resource":{"addr":"b.x"},"action":"create"}}`,
		`{"@level":"info","@message":"a.y: Plan to replace","type":"planned_change","change":{"resource":{"addr":"a.y"},"action":"replace"}}`,
		`{"@level":"info","@message":"c.z: Plan to update","type":"planned_change","change":{"resource":{"addr":"c.z"},"action":"update"}}`,
		`{"@level":"info","@message":"data.d.r: Plan to read","type":"planned_change","change":{"resource":{"addr":"data.d.r"},"action":"read"}}`,
		`{"@level":"info","@message":"e.w: Plan to delete","type":"planned_change","change":{"resource":{"addr":"e.w"},"action":"delete"}}`,
		`{"@level":"warn","@message":"Warning: Deprecated attribute","type":"diagnostic","diagnostic":{"severity":"warning","summary":"Deprecated attribute","detail":"use y"}}`,
		`{"@level":"error","@message":"Error: Invalid value","type":"diagnostic","diagnostic":{"severity":"error","summary":"Invalid value","detail":"a number\nis required."}}`,
		`not json at all`,
		`{"@level":"info","@message":"b.x: Creating...","type":"apply_start"}`,
	}, "\n")
	// Terraform's output arrives in arbitrary pieces.
	for _, chunk := range []string{stream[:37], stream[37:300], stream[300:]} {
		if _, err := ev.Write([]byte(chunk)); err != nil {
			t.Fatal(err)
		}
	}
	ev.close()

	t.Run("planned changes become a summary per address", func(t *testing.T) {
		want := &PlanSummary{Add: []string{"a.y", "b.x"}, Change: []string{"c.z"}, Destroy: []string{"a.y", "e.w"}}
		if d := cmp.Diff(want, ev.plan()); d != "" {
			t.Errorf("(-want +got):\n%s", d)
		}
	})
	t.Run("error diagnostics are kept on one line each", func(t *testing.T) {
		var got []string
		for _, d := range ev.diagnostics() {
			got = append(got, d.text())
		}
		if d := cmp.Diff([]string{"Invalid value: a number is required."}, got); d != "" {
			t.Errorf("(-want +got):\n%s", d)
		}
	})
	t.Run("every line is logged at Terraform's level; the version only as debug", func(t *testing.T) {
		for _, want := range []string{
			`level=DEBUG msg="Terraform 1.11.4"`,
			`level=INFO msg="b.x: Plan to create"`,
			`level=WARN msg="Warning: Deprecated attribute: use y"`,
			`level=ERROR msg="Error: Invalid value: a number is required."`,
			`level=INFO msg="not json at all"`,
			`level=INFO msg="b.x: Creating..."`,
		} {
			if !rec.contains(want) {
				t.Errorf("log lacks %s:\n%s", want, rec.text())
			}
		}
	})
}

func TestEventsPlainRepeats(t *testing.T) {
	rec := &logRecorder{}
	log := slog.New(slog.NewTextHandler(rec, &slog.HandlerOptions{Level: slog.LevelDebug}))
	seen := map[string]bool{}
	for range 2 {
		ev := newEvents(log, slog.LevelWarn)
		ev.seen = seen
		_, _ = ev.Write([]byte("╷\n│ Warning: Unable to open CLI configuration file\n│\n╵\n"))
		ev.close()
	}
	want := "level=WARN msg=\"Warning: Unable to open CLI configuration file\"\nlevel=DEBUG msg=\"Warning: Unable to open CLI configuration file\""
	if got := stripTimes(rec.text()); got != want {
		t.Errorf("a warning every command repeats is logged once:\n%s\nwant:\n%s", got, want)
	}
}

func stripTimes(s string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if i := strings.Index(l, "level="); i >= 0 {
			l = l[i:]
		}
		out = append(out, l)
	}
	return strings.Join(out, "\n")
}
