package operations

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/cloudify-chaos/chaosops/plugin/chaos"
	"github.com/cloudify-chaos/chaosops/plugin/cloudify"
	"github.com/cloudify-chaos/chaosops/plugin/runopts"
)

// TestInputSourceParsesEachKind: inputs arrive as text (spec 1.3); each
// kind is parsed from it, and a wrong one is refused with the input's name
// and the fix.
func TestInputSourceParsesEachKind(t *testing.T) {
	src := func(m map[string]string) inputSource { return inputSource{cloudify.MapInputs(m)} }
	t.Run("text of each kind is parsed", func(t *testing.T) {
		o, err := runopts.ReadRun(src(map[string]string{
			"duration": "90", "force_cleanup": "true", "max_percent": "80", "allowed_namespaces": `["a", "b"]`,
			"allowed_ports": "80, 8080", "safety_lever": "off", "max_duration": "None",
		}))
		if err != nil {
			t.Fatal(err)
		}
		got := []any{o.Duration.String(), o.ForceCleanup, o.Guard.MaxPercent, o.Guard.AllowedNamespaces, o.Guard.AllowedPorts, o.Guard.SafetyLever, o.Guard.MaxDuration}
		want := []any{"1m30s", true, 80, []string{"a", "b"}, []int{80, 8080}, "off", chaos.DefaultMaxDuration}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
		// ReadExperiment checks the run too: give it one the guardrails allow.
		if o.Object, err = chaos.HTTPObject(chaos.HTTPOptions{Namespace: "a", Selector: map[string]string{"app": "demo"}, Mode: "one",
			Target: "Request", Port: 8080, Path: "/", Abort: true}); err != nil {
			t.Fatal(err)
		}
		x, err := runopts.ReadExperiment(src(map[string]string{"probe_url": "http://demo/", "probe_rps": "2.5"}), o)
		if err != nil || len(x.Probes) != 1 || x.Probes[0].RPS != 2.5 {
			t.Errorf("probes %+v, %v; want one HTTP probe at 2.5 rps", x.Probes, err)
		}
		h, err := runopts.ReadHTTP(src(map[string]string{"selector": `{"app": "demo"}`, "replace": `{"code": 503}`}))
		if err != nil || h.Selector["app"] != "demo" || h.Replace == nil || *h.Replace.Code != 503 {
			t.Errorf("HTTP options %+v, %v; want selector app=demo and a replaced code", h, err)
		}
	})
	cases := []struct {
		name string
		in   map[string]string
		read func(runopts.Source) error
		want string
	}{
		{"a port that is no number", map[string]string{"allowed_ports": `["http"]`}, readRun, `input allowed_ports: "http" is not a port`},
		{"a boolean that is no boolean", map[string]string{"force_cleanup": "yes"}, readRun, `input force_cleanup: "yes" is not a boolean; use true or false`},
		{"an integer that is no integer", map[string]string{"max_percent": "many"}, readRun, `input max_percent: "many" is not an integer; use e.g. 50`},
		{"a duration that is no duration", map[string]string{"duration": "2x"}, readRun, `duration: "2x" is not a duration; use e.g. 2m or 120 (seconds)`},
		{"a list that is no list", map[string]string{"allowed_namespaces": "[a"}, readRun, `input allowed_namespaces: not a valid list; give e.g. [a, b]`},
		{"a number that is no number", map[string]string{"probe_min_success": "most"}, readExperiment, `input probe_min_success: "most" is not a number`},
		{"probes that are no list", map[string]string{"probes": "[unclosed"}, readExperiment, `probes: `},
		{"a dict that is no dict", map[string]string{"patch": `["a"]`}, readHTTP, `input patch: json: cannot unmarshal array`},
		{"a code that is no integer", map[string]string{"code": "many"}, readHTTP, `input code: "many" is not an integer; use e.g. 0`},
		{"a selector without a key", map[string]string{"selector": "=demo"}, readHTTP, `selector: "=demo" is not key=value; use e.g. app=demo`},
		{"a token lifetime that is no duration", map[string]string{"ttl": "long"}, readToken, `ttl: "long" is not a duration`},
	}
	for _, tc := range cases {
		t.Run(tc.name+" is refused, naming the input", func(t *testing.T) {
			if err := tc.read(src(tc.in)); err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Errorf("error %v, want it to begin %q", err, tc.want)
			}
		})
	}
}

func readRun(s runopts.Source) error   { _, err := runopts.ReadRun(s); return err }
func readHTTP(s runopts.Source) error  { _, err := runopts.ReadHTTP(s); return err }
func readToken(s runopts.Source) error { _, err := runopts.ReadToken(s); return err }
func readExperiment(s runopts.Source) error {
	_, err := runopts.ReadExperiment(s, chaos.RunOptions{})
	return err
}
