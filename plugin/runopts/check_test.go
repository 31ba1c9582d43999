package runopts_test

import (
	"strings"
	"testing"
	"time"

	"github.com/cloudify-chaos/chaosops/plugin/chaos"
	"github.com/cloudify-chaos/chaosops/plugin/runopts"
)

// TestReadersCheckBeforeConnecting: each reader runs the domain's checks
// that need no cluster, and its errors name the option as the side's user
// knows it (input name, or --flag).
func TestReadersCheckBeforeConnecting(t *testing.T) {
	tests := []struct {
		name string
		side runopts.Side
		v    map[string]any
		read func(runopts.Source, chaos.RunOptions) error
		want string // "" for no error
	}{
		{"valid probes pass", runopts.InputSide, map[string]any{"probe_url": "http://demo:8080/"}, experiment, ""},
		{"a probe URL of another scheme names the input", runopts.InputSide, map[string]any{"probe_url": "ftp://example.com"}, experiment, `probe_url: ftp://example.com: scheme "ftp"`},
		{"a probe URL of another scheme names the flag", runopts.FlagSide, map[string]any{"probe_url": "ftp://example.com"}, experiment, `--probe-url: ftp://example.com`},
		{"an unknown probe method names it", runopts.InputSide, map[string]any{"probe_url": "http://demo/", "probe_method": "FETCH"}, experiment, `probe_method: "FETCH" is not an HTTP method`},
		{"an unbalanced PromQL query names it", runopts.FlagSide, map[string]any{"promql": "sum((", "prometheus_url": "http://prom:9090"}, experiment, `--promql: unclosed '('`},
		{"a Grafana URL of another scheme names the flag", runopts.FlagSide, map[string]any{"grafana_url": "ftp://example.com"}, experiment, `--grafana-url: "ftp://example.com" is not an http(s) URL`},
		{"an unknown fail_on verdict names it", runopts.InputSide, map[string]any{"fail_on": []string{"sometimes"}}, failOn, `fail_on: "sometimes" is not a verdict`},
		{"a role that is neither viewer nor manager names it", runopts.FlagSide, map[string]any{"role": "admin"}, token, `role: "admin" is not viewer or manager`},
		{"a ttl under 10m names it", runopts.InputSide, map[string]any{"ttl": 5 * time.Minute}, token, `ttl: 5m0s is shorter than the API server's 10m minimum`},
		{"a duration over max_duration names both inputs", runopts.InputSide, nil, overlong, `duration: 20m0s is longer than max_duration 10m0s; shorten it or raise max_duration`},
		{"a duration over max_duration names both flags", runopts.FlagSide, nil, overlong, `--duration: 20m0s is longer than --max-duration 10m0s; shorten it or raise --max-duration`},
		{"a selection namespace that is no DNS label names it", runopts.InputSide, map[string]any{"namespace": "Not_A_Namespace!"}, selection, `namespace: "Not_A_Namespace!" is not a namespace name`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.read(mapSource{side: tt.side, v: tt.v}, validRun(t))
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("unexpected error: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

// validRun is a run the checks accept: an HTTPChaos on app=demo in demo.
func validRun(t *testing.T) chaos.RunOptions {
	t.Helper()
	o, err := chaos.HTTPObject(chaos.HTTPOptions{Namespace: "demo", Selector: map[string]string{"app": "demo"}, Mode: "one",
		Target: "Request", Port: 8080, Path: "/", Abort: true})
	if err != nil {
		t.Fatal(err)
	}
	return chaos.RunOptions{Object: o, Namespace: "demo", Duration: chaos.DefaultDuration}
}

func experiment(src runopts.Source, o chaos.RunOptions) error {
	_, err := runopts.ReadExperiment(src, o)
	return err
}

func failOn(src runopts.Source, _ chaos.RunOptions) error {
	_, err := runopts.ReadFailOn(src)
	return err
}

func token(src runopts.Source, _ chaos.RunOptions) error {
	_, err := runopts.ReadToken(src)
	return err
}

func selection(src runopts.Source, _ chaos.RunOptions) error {
	_, err := runopts.ReadSelection(src)
	return err
}

// overlong reads a run whose duration is over its max_duration.
func overlong(src runopts.Source, o chaos.RunOptions) error {
	o.Duration, o.Guard.MaxDuration = 20*time.Minute, 10*time.Minute
	return experiment(src, o)
}
