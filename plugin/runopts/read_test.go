package runopts_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/cloudify-chaos/chaosops/plugin/chaos"
	"github.com/cloudify-chaos/chaosops/plugin/chaos/api"
	"github.com/cloudify-chaos/chaosops/plugin/probe"
	"github.com/cloudify-chaos/chaosops/plugin/runopts"
)

// mapSource is a stand-in Source over values already of their kind's Go
// type, keyed by option key; an unset option is its default on side. A
// value of the wrong type is an error naming the option, as the real
// sources' parse errors do.
type mapSource struct {
	side runopts.Side
	v    map[string]any
}

func (s mapSource) Side() runopts.Side { return s.side }

func value[T any](s mapSource, o *runopts.Option) (T, error) {
	v, ok := s.v[o.Key()]
	if !ok {
		d, _ := o.DefaultOn(s.side).(T)
		return d, nil
	}
	t, ok := v.(T)
	if !ok {
		return t, fmt.Errorf("%s: %v is not a %T", o.Key(), v, t)
	}
	return t, nil
}

func (s mapSource) String(o *runopts.Option) string          { v, _ := value[string](s, o); return v }
func (s mapSource) Bool(o *runopts.Option) (bool, error)     { return value[bool](s, o) }
func (s mapSource) Int(o *runopts.Option) (int, error)       { return value[int](s, o) }
func (s mapSource) Float(o *runopts.Option) (float64, error) { return value[float64](s, o) }
func (s mapSource) List(o *runopts.Option) ([]string, error) { return value[[]string](s, o) }
func (s mapSource) Ports(o *runopts.Option) ([]int, error)   { return value[[]int](s, o) }
func (s mapSource) Value(o *runopts.Option) any              { v, _ := value[any](s, o); return v }
func (s mapSource) Invalid(o *runopts.Option, err error) error {
	return fmt.Errorf("invalid %s: %w", o.Key(), err)
}
func (s mapSource) Duration(o *runopts.Option) (time.Duration, error) {
	return value[time.Duration](s, o)
}

func (s mapSource) Decode(o *runopts.Option, out any) error {
	v, ok := s.v[o.Key()]
	if !ok {
		return nil
	}
	return json.Unmarshal([]byte(v.(string)), out)
}

func (s mapSource) Text(o *runopts.Option) (string, bool, error) {
	v, ok := s.v[o.Key()].(string)
	return v, ok, nil
}

func inputs(v map[string]any) mapSource { return mapSource{side: runopts.InputSide, v: v} }

// TestReadRun: unset options are the domain's defaults; set ones are
// read by kind; wrong ones are all reported, each naming its option.
func TestReadRun(t *testing.T) {
	t.Run("unset options are the domain's defaults", func(t *testing.T) {
		o, err := runopts.ReadRun(inputs(nil))
		if err != nil {
			t.Fatal(err)
		}
		want := chaos.RunOptions{
			Namespace: chaos.DefaultNamespace, ChaosNamespace: chaos.DefaultChaosNamespace, Duration: chaos.DefaultDuration,
			InjectionTimeout: chaos.DefaultInjectionTimeout, RecoveryTimeout: chaos.DefaultRecoveryTimeout, DeleteTimeout: chaos.DefaultDeleteTimeout,
			Guard: chaos.Guardrails{MaxDuration: chaos.DefaultMaxDuration, MaxPercent: chaos.DefaultMaxPercent},
		}
		if diff := cmp.Diff(want, o); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
	t.Run("each kind is read", func(t *testing.T) {
		o, err := runopts.ReadRun(inputs(map[string]any{
			"duration": 30 * time.Second, "force_cleanup": true, "max_percent": 80, "allowed_namespaces": []string{"a", "b"},
			"allowed_ports": []int{80, 8080}, "safety_lever": "on", "namespace": "demo",
		}))
		if err != nil {
			t.Fatal(err)
		}
		got := []any{o.Duration, o.ForceCleanup, o.Guard.MaxPercent, o.Guard.AllowedNamespaces, o.Guard.AllowedPorts, o.Guard.SafetyLever, o.Namespace}
		want := []any{30 * time.Second, true, 80, []string{"a", "b"}, []int{80, 8080}, "on", "demo"}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
	t.Run("every wrong option is reported, by name", func(t *testing.T) {
		_, err := runopts.ReadRun(inputs(map[string]any{"duration": "2x", "max_percent": "many"}))
		for _, name := range []string{"duration:", "max_percent:"} {
			if err == nil || !strings.Contains(err.Error(), name) {
				t.Errorf("error %v does not name %s", err, name)
			}
		}
	})
	t.Run("a flag-only option is read on the flag side only", func(t *testing.T) {
		o, _ := runopts.ReadRun(mapSource{side: runopts.FlagSide})
		if o.Owner.Deployment != runopts.CLIDeployment {
			t.Errorf("flag side: deployment %q, want %q", o.Owner.Deployment, runopts.CLIDeployment)
		}
		if o, _ := runopts.ReadRun(inputs(nil)); o.Owner.Deployment != "" {
			t.Errorf("input side: deployment %q, want none (the operation's context gives it)", o.Owner.Deployment)
		}
	})
}

// TestReadHTTP: the template's options, with the differences of the two
// sides the spec declares.
func TestReadHTTP(t *testing.T) {
	cases := []struct {
		name    string
		src     mapSource
		want    chaos.HTTPOptions
		wantErr string
	}{
		{"unset inputs target the demo app and abort", inputs(nil), chaos.HTTPOptions{
			Namespace: "default", Selector: map[string]string{"app": "python-prometheus"}, Mode: "one", Target: "Request", Port: 8080, Path: "/",
			Abort: true, Duration: chaos.DefaultDuration,
		}, ""},
		{"unset flags abort nothing", mapSource{side: runopts.FlagSide, v: map[string]any{"selector": "app=demo"}}, chaos.HTTPOptions{
			Namespace: "default", Selector: map[string]string{"app": "demo"}, Mode: "one", Target: "Request", Port: 8080, Path: "/",
			Duration: chaos.DefaultDuration,
		}, ""},
		{"a dict selector's values become text", inputs(map[string]any{"selector": map[string]any{"app": "demo", "tier": 2}, "abort": false, "delay": time.Second}), chaos.HTTPOptions{
			Namespace: "default", Selector: map[string]string{"app": "demo", "tier": "2"}, Mode: "one", Target: "Request", Port: 8080, Path: "/",
			Delay: time.Second, Duration: chaos.DefaultDuration,
		}, ""},
		{"a dict is decoded on the input side", inputs(map[string]any{"replace": `{"code": 503}`}), chaos.HTTPOptions{
			Namespace: "default", Selector: map[string]string{"app": "python-prometheus"}, Mode: "one", Target: "Request", Port: 8080, Path: "/",
			Abort: true, Duration: chaos.DefaultDuration, Replace: &api.HTTPReplace{Code: ptr(int32(503))},
		}, ""},
		{"a selector that does not parse is invalid, as the side says", inputs(map[string]any{"selector": "=demo"}), chaos.HTTPOptions{}, `invalid selector: selector: "=demo" is not key=value; use e.g. app=demo`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := runopts.ReadHTTP(tc.src)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

// TestReadExperiment: the probe shorthands and listed probes, the report
// and Grafana options.
func TestReadExperiment(t *testing.T) {
	t.Run("unset probe options are the domain's defaults", func(t *testing.T) {
		x, err := runopts.ReadExperiment(inputs(map[string]any{"probe_url": "http://demo/", "grafana_token": "t0k"}), validRun(t))
		if err != nil {
			t.Fatal(err)
		}
		want := []probe.Spec{{Name: "http", Kind: probe.HTTP, URL: "http://demo/", Method: probe.DefaultMethod, RPS: probe.DefaultRPS,
			Window: probe.DefaultWindow, Interval: probe.DefaultInterval, MinSuccess: probe.DefaultMinSuccess, During: probe.Deviate}}
		if diff := cmp.Diff(want, x.Probes); diff != "" {
			t.Errorf("probes (-want +got):\n%s", diff)
		}
		if x.Settle != probe.DefaultSettle || x.ReportDir != "" || x.Grafana.Token != "t0k" {
			t.Errorf("settle %s, report dir %q, grafana token %q; want %s, none (the adapter's root) and t0k", x.Settle, x.ReportDir, x.Grafana.Token, probe.DefaultSettle)
		}
	})
	t.Run("listed probes are parsed, their errors named by the side", func(t *testing.T) {
		x, err := runopts.ReadExperiment(inputs(map[string]any{"probes": "- {name: up, kind: promql, query: up, comparator: '>', threshold: 0}", "prometheus_url": "http://prom:9090"}), validRun(t))
		if err != nil || len(x.Probes) != 1 || x.Probes[0].Name != "up" {
			t.Fatalf("probes %+v, error %v; want the probe up", x.Probes, err)
		}
		_, err = runopts.ReadExperiment(inputs(map[string]any{"probes": "- {kind: http}"}), chaos.RunOptions{})
		if want := "invalid probes: probes[0].name: not set; give each probe a unique name"; err == nil || err.Error() != want {
			t.Errorf("error %v, want %q", err, want)
		}
	})
}

// TestReadTheRest: selection, reap and token options.
func TestReadTheRest(t *testing.T) {
	s, err := runopts.ReadSelection(inputs(map[string]any{"run_id": "r1"}))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(chaos.Selection{RunID: "r1"}, s); diff != "" {
		t.Errorf("selection (-want +got):\n%s", diff)
	}
	if s, _ := runopts.ReadSelection(mapSource{side: runopts.FlagSide}); s.Deployment != runopts.CLIDeployment {
		t.Errorf("CLI selection deployment %q, want %q", s.Deployment, runopts.CLIDeployment)
	}
	o, err := runopts.ReadReap(inputs(map[string]any{"force_cleanup": true}))
	if err != nil || !o.ForceCleanup || o.DeleteTimeout != chaos.DefaultDeleteTimeout {
		t.Errorf("reap %+v, %v; want force_cleanup and the default delete timeout", o, err)
	}
	tok, err := runopts.ReadToken(inputs(nil))
	if want := (chaos.TokenOptions{Namespace: "default", Role: chaos.DashboardViewer, TTL: chaos.DefaultTokenTTL}); err != nil || tok != want {
		t.Errorf("token %+v, %v; want %+v", tok, err, want)
	}
}
