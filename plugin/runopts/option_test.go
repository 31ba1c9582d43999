package runopts_test

import (
	"regexp"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/cloudify-chaos/chaosops/plugin/runopts"
)

var sets = map[string]runopts.Set{
	"Run": runopts.Run, "Probe": runopts.Probe, "HTTP": runopts.HTTP, "Manifest": runopts.Manifest,
	"Selection": runopts.Selection, "Reap": runopts.Reap, "Token": runopts.Token,
}

// TestInputDefaultsRenderAsBefore: the operation listing shows each
// default as the hand-written tables did, durations the short way.
func TestInputDefaultsRenderAsBefore(t *testing.T) {
	cases := []struct {
		set  runopts.Set
		name string
		want string
	}{
		{runopts.Run, "duration", "2m"},
		{runopts.Run, "delete_timeout", "1m"},
		{runopts.Run, "max_duration", "10m"},
		{runopts.Run, "force_cleanup", "false"},
		{runopts.Run, "max_percent", "50"},
		{runopts.Run, "chaos_namespace", "chaos-mesh"},
		{runopts.Run, "allowed_ports", ""},
		{runopts.Probe, "probe_rps", "5"},
		{runopts.Probe, "probe_window", "10s"},
		{runopts.Probe, "probe_interval", "5s"},
		{runopts.Probe, "probe_min_success", "0.95"},
		{runopts.Probe, "promql_threshold", "0"},
		{runopts.Probe, "promql_comparator", ">="},
		{runopts.Probe, "settle", "30s"},
		{runopts.Probe, "report_dir", "$CHAOSOPS_WORKDIR/<deployment>/reports/<chaos object>"},
		{runopts.HTTP, "abort", "true"},
		{runopts.HTTP, "selector", "app=python-prometheus"},
		{runopts.HTTP, "port", "8080"},
		{runopts.HTTP, "delay", ""},
		{runopts.HTTP, "code", ""},
		{runopts.Token, "ttl", "1h"},
	}
	for _, tc := range cases {
		t.Run(tc.name+" is shown as "+tc.want, func(t *testing.T) {
			if got := tc.set.Get(tc.name).InputDefault(); got != tc.want {
				t.Errorf("InputDefault() = %q, want %q", got, tc.want)
			}
		})
	}
}

// TestSidesDifferWhereDeclared: a side's default overrides the domain's
// only where the spec says so.
func TestSidesDifferWhereDeclared(t *testing.T) {
	abort := runopts.HTTP.Get("abort")
	got := []any{abort.DefaultOn(runopts.InputSide), abort.DefaultOn(runopts.FlagSide)}
	if diff := cmp.Diff([]any{true, nil}, got); diff != "" {
		t.Errorf("abort defaults (input, flag) (-want +got):\n%s", diff)
	}
	sel := runopts.HTTP.Get("selector")
	if !sel.Flag.Required || sel.DefaultOn(runopts.FlagSide) != nil {
		t.Errorf("--selector: required %v, default %v; want required, no default", sel.Flag.Required, sel.DefaultOn(runopts.FlagSide))
	}
	for _, name := range []string{"fail_on", "replace", "patch", "manifest"} {
		if o := runopts.Set(append(append(runopts.Set{}, runopts.Run...), runopts.HTTP...)).Get(name); o.On(runopts.FlagSide) {
			t.Errorf("%s is a flag; want an input only", name)
		}
	}
	if o := runopts.Run.Get("output"); o.On(runopts.InputSide) {
		t.Error("output is an input; want a flag only")
	}
}

// TestEveryOptionIsWellFormed: names keep each side's style and are
// unique within a set, every option says what it is on each side it has.
func TestEveryOptionIsWellFormed(t *testing.T) {
	snake, kebab := regexp.MustCompile(`^[a-z][a-z0-9_]*$`), regexp.MustCompile(`^[a-z][a-z0-9-]*$`)
	for setName, set := range sets {
		seen := map[string]bool{}
		for _, o := range set {
			key := setName + "/" + o.Key()
			if seen[o.Key()] {
				t.Errorf("%s: declared twice", key)
			}
			seen[o.Key()] = true
			if o.Kind == 0 {
				t.Errorf("%s: no kind", key)
			}
			if o.Input.Name != "" && (!snake.MatchString(o.Input.Name) || o.Input.Description == "") {
				t.Errorf("%s: input %q needs a snake_case name and a description", key, o.Input.Name)
			}
			if o.Flag.Name != "" && (!kebab.MatchString(o.Flag.Name) || o.Flag.Usage == "") {
				t.Errorf("%s: flag %q needs a kebab-case name and a usage", key, o.Flag.Name)
			}
			if o.Flag.Name != "" && o.Kind == runopts.Dict {
				t.Errorf("%s: a dict has no flag form", key)
			}
			if o.Flag.File != runopts.NoFile && o.Kind != runopts.Text {
				t.Errorf("%s: only a text is read from a file", key)
			}
		}
	}
}
