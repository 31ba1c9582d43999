package api

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/utils/ptr"
)

// valid returns a minimal valid object of every kind.
func valid() map[string]*Object {
	sel := PodSelector{Selector: PodSelectorSpec{LabelSelectors: map[string]string{"app": "web"}}, Mode: ModeAll}
	csel := ContainerSelector{PodSelector: sel}
	specs := []Spec{
		&HTTPChaosSpec{PodSelector: sel, Target: HTTPRequest, Port: 80, Abort: ptr.To(true)},
		&PodChaosSpec{ContainerSelector: csel, Action: PodKill},
		&NetworkChaosSpec{PodSelector: sel, Action: NetworkActionDelay, Delay: &NetworkDelay{Latency: "100ms"}},
		&StressChaosSpec{ContainerSelector: csel, Stressors: &Stressors{CPU: &CPUStressor{Workers: 1}}},
		&IOChaosSpec{ContainerSelector: csel, Action: IOLatency, VolumePath: "/data", Delay: "10ms"},
		&DNSChaosSpec{ContainerSelector: csel, Action: DNSError},
		&TimeChaosSpec{ContainerSelector: csel, TimeOffset: "-5m"},
		&JVMChaosSpec{ContainerSelector: csel, Action: JVMGC},
		&KernelChaosSpec{ContainerSelector: csel},
	}
	out := map[string]*Object{}
	for _, s := range specs {
		out[s.Kind()] = NewObject("demo", "x", s)
	}
	return out
}

func TestValidateAcceptsAMinimalObjectOfEveryKind(t *testing.T) {
	objs := valid()
	for _, k := range Kinds() {
		if err := objs[k.Name].Validate(); err != nil {
			t.Errorf("%s: %v", k.Name, err)
		}
	}
}

func TestValidate(t *testing.T) {
	http := func(edit func(s *HTTPChaosSpec)) *Object {
		o := valid()["HTTPChaos"]
		edit(o.Spec.(*HTTPChaosSpec))
		return o
	}
	for _, tc := range []struct {
		name string
		obj  *Object
		want []string
	}{
		{"a missing mode names the choices", http(func(s *HTTPChaosSpec) { s.Mode = "" }),
			[]string{"spec.mode: missing; set one of one, all, fixed, fixed-percent, random-max-percent"}},
		{"an unknown mode names the choices", http(func(s *HTTPChaosSpec) { s.Mode = "some" }),
			[]string{`spec.mode: "some" is not a mode; use one of one, all, fixed, fixed-percent, random-max-percent`}},
		{"mode fixed needs a whole number", http(func(s *HTTPChaosSpec) { s.Mode, s.Value = ModeFixed, "two" }),
			[]string{`spec.value: "two" is not a whole number of pods of at least 1; mode fixed needs how many pods to affect, e.g. value: "2"`}},
		{"mode fixed needs at least one pod", http(func(s *HTTPChaosSpec) { s.Mode, s.Value = ModeFixed, "0" }),
			[]string{`spec.value: "0" is not a whole number of pods of at least 1; mode fixed needs how many pods to affect, e.g. value: "2"`}},
		{"mode fixed-percent needs a value", http(func(s *HTTPChaosSpec) { s.Mode = ModeFixedPercent }),
			[]string{`spec.value: missing; mode fixed-percent needs a percentage of the pods, e.g. value: "50"`}},
		{"a percentage above 100 is rejected", http(func(s *HTTPChaosSpec) { s.Mode, s.Value = ModeRandomMaxPercent, "150" }),
			[]string{`spec.value: "150" is not a percentage from 1 to 100; mode random-max-percent needs a percentage of the pods, e.g. value: "50"`}},
		{"a value with mode all is flagged", http(func(s *HTTPChaosSpec) { s.Value = "3" }),
			[]string{`spec.value: "3" has no effect with mode all; remove it, or use mode fixed, fixed-percent or random-max-percent`}},
		{"a bad duration shows an example", http(func(s *HTTPChaosSpec) { s.Duration = ptr.To("2x") }),
			[]string{`spec.duration: "2x" is not a duration; use e.g. "30s" or "5m"`}},
		{"an empty duration is rejected", http(func(s *HTTPChaosSpec) { s.Duration = ptr.To("") }),
			[]string{`spec.duration: is empty; set a duration such as "30s" or "5m", or leave it out to run until deleted`}},
		{"a negative duration is rejected", http(func(s *HTTPChaosSpec) { s.Duration = ptr.To("-1m") }),
			[]string{`spec.duration: "-1m" is not positive; use e.g. "30s" or "5m"`}},
		{"HTTPChaos needs a target", http(func(s *HTTPChaosSpec) { s.Target = "" }),
			[]string{"spec.target: missing; set one of Request, Response"}},
		{"HTTPChaos needs a port", http(func(s *HTTPChaosSpec) { s.Port = 0 }),
			[]string{"spec.port: missing; set the container port the HTTP server listens on, e.g. port: 8080"}},
		{"HTTPChaos rejects a port out of range", http(func(s *HTTPChaosSpec) { s.Port = 70000 }),
			[]string{"spec.port: 70000 is not a port; set the container port the HTTP server listens on, e.g. port: 8080"}},
		{"HTTPChaos needs an action", http(func(s *HTTPChaosSpec) { s.Abort = nil }),
			[]string{"spec: has no action; set one of abort, delay, replace or patch"}},
		{"HTTPChaos rejects a bad delay", http(func(s *HTTPChaosSpec) { s.Delay = ptr.To("soon") }),
			[]string{`spec.delay: "soon" is not a duration; use e.g. delay: "500ms"`}},
		{"a request method must exist", http(func(s *HTTPChaosSpec) { s.Method = ptr.To("FETCH") }),
			[]string{`spec.method: "FETCH" is not supported; use one of GET, POST, PUT, DELETE, PATCH, HEAD, OPTIONS, TRACE, CONNECT`}},
		{"a status code selector needs target Response", http(func(s *HTTPChaosSpec) { s.Code = ptr.To[int32](500) }),
			[]string{"spec.code: selects responses by status code but target is Request; remove code, or set target: Response"}},
		{"replace.code needs target Response", http(func(s *HTTPChaosSpec) { s.Replace = &HTTPReplace{Code: ptr.To[int32](503)} }),
			[]string{"spec.replace.code: only applies to responses but target is Request; remove replace.code, or set target: Response"}},
		{"replace.path needs target Request", http(func(s *HTTPChaosSpec) {
			s.Target, s.Replace = HTTPResponse, &HTTPReplace{Path: ptr.To("/x"), Code: ptr.To[int32](700)}
		}), []string{
			"spec.replace.path: only applies to requests but target is Response; remove replace.path, or set target: Request",
			"spec.replace.code: 700 is not between 100 and 599; use an HTTP status code, e.g. 503",
		}},
		{"a body patch must be a JSON merge patch", http(func(s *HTTPChaosSpec) {
			s.Patch = &HTTPPatch{Body: &HTTPPatchBody{Type: "XML", Value: "<x/>"}, Headers: [][]string{{"X-Only-Name"}}}
		}), []string{
			"spec.patch.headers[0]: has 1 elements; write a [name, value] pair, e.g. [\"X-Chaos\", \"1\"]",
			`spec.patch.body.type: "XML" is not "JSON"; set type: JSON (a JSON merge patch)`,
			`spec.patch.body.value: is not a JSON document; write the merge patch as JSON, e.g. '{"status":"failed"}'`,
		}},
		{"tls needs the secret and key names", http(func(s *HTTPChaosSpec) { s.TLS = &HTTPTLS{SecretName: "tls"} }), []string{
			"spec.tls.secretNamespace: missing; set the namespace of the Secret",
			`spec.tls.certName: missing; name the certificate's key in the Secret, e.g. "tls.crt"`,
			`spec.tls.keyName: missing; name the private key's key in the Secret, e.g. "tls.key"`,
		}},
		{"the kind must be supported", &Object{}, []string{
			"kind: missing; set one of HTTPChaos, PodChaos, NetworkChaos, StressChaos, IOChaos, DNSChaos, TimeChaos, JVMChaos, KernelChaos",
			"metadata.name: missing; set metadata.name or metadata.generateName",
			"spec: missing; set the spec",
		}},
		{"the spec must match the kind", func() *Object {
			o := valid()["PodChaos"]
			o.Kind = "HTTPChaos"
			return o
		}(), []string{"spec: is a PodChaos spec in a HTTPChaos; use a HTTPChaosSpec or set kind: PodChaos"}},
		{"container-kill needs container names", func() *Object {
			o := valid()["PodChaos"]
			o.Spec.(*PodChaosSpec).Action = ContainerKill
			return o
		}(), []string{"spec.containerNames: missing; container-kill needs the names of the containers to kill"}},
		{"pod-failure needs a duration", func() *Object {
			o := valid()["PodChaos"]
			o.Spec.(*PodChaosSpec).Action = PodFailure
			return o
		}(), []string{`spec.duration: missing; pod-failure needs a duration, e.g. duration: "30s"`}},
		{"a NetworkChaos target selector is checked too", func() *Object {
			o := valid()["NetworkChaos"]
			o.Spec.(*NetworkChaosSpec).Target = &PodSelector{Mode: ModeFixed}
			return o
		}(), []string{`spec.target.value: missing; mode fixed needs how many pods to affect, e.g. value: "2"`}},
		{"a delay action needs its latency", func() *Object {
			o := valid()["NetworkChaos"]
			o.Spec.(*NetworkChaosSpec).Delay = nil
			return o
		}(), []string{"spec.delay: missing; action delay needs its parameters in spec.delay"}},
		{"a TimeChaos offset must be a duration", func() *Object {
			o := valid()["TimeChaos"]
			o.Spec.(*TimeChaosSpec).TimeOffset = "yesterday"
			return o
		}(), []string{`spec.timeOffset: "yesterday" is not a duration; use e.g. timeOffset: "-10m"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.obj.Validate()
			var inv *InvalidError
			if !errors.As(err, &inv) {
				t.Fatalf("Validate() = %v, want an *InvalidError", err)
			}
			if diff := cmp.Diff(tc.want, strings.Split(err.Error(), "\n")); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
		})
	}
}
