package tproxy

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/cloudify-chaos/chaosops/plugin/chaos/api"
	"github.com/google/go-cmp/cmp"
	"k8s.io/utils/ptr"
)

func TestWildMatch(t *testing.T) {
	for _, tc := range []struct {
		pattern, path string
		want          bool
	}{
		{"/api/*", "/api/x", true},
		{"/api/*", "/api/", true},
		{"/api/*", "/api/v1/users", true},
		{"/api/*", "/api", false},
		{"/api/*", "/health", false},
		{"/src", "/src/", false},
		{"/src/", "/src/", true},
		{"/src*", "/src/", true},
		{"/src?", "/src/", true},
		{"src", "/src/", false},
		{"*", "/anything/at/all", true},
		{"*/users/*/orders", "/api/users/7/orders", true},
		{"*/users/*/orders", "/api/users/7/orders/1", false},
		{"/a*b*c", "/aXbYbZc", true},
		{"/a*b*c", "/aXbYbZ", false},
		{"/é?", "/éx", true},
	} {
		if got := wildMatch(tc.pattern, tc.path); got != tc.want {
			t.Errorf("wildMatch(%q, %q) = %v, want %v", tc.pattern, tc.path, got, tc.want)
		}
	}
}

func TestMergePatch(t *testing.T) {
	// The examples of RFC 7396, appendix A.
	for _, tc := range []struct{ target, patch, want string }{
		{`{"a":"b"}`, `{"a":"c"}`, `{"a":"c"}`},
		{`{"a":"b"}`, `{"b":"c"}`, `{"a":"b","b":"c"}`},
		{`{"a":"b"}`, `{"a":null}`, `{}`},
		{`{"a":"b","b":"c"}`, `{"a":null}`, `{"b":"c"}`},
		{`{"a":["b"]}`, `{"a":"c"}`, `{"a":"c"}`},
		{`{"a":"c"}`, `{"a":["b"]}`, `{"a":["b"]}`},
		{`{"a":{"b":"c"}}`, `{"a":{"b":"d","c":null}}`, `{"a":{"b":"d"}}`},
		{`{"a":[{"b":"c"}]}`, `{"a":[1]}`, `{"a":[1]}`},
		{`["a","b"]`, `["c","d"]`, `["c","d"]`},
		{`{"a":"b"}`, `["c"]`, `["c"]`},
		{`{"a":"foo"}`, `null`, `null`},
		{`{"a":"foo"}`, `"bar"`, `"bar"`},
		{`{"e":null}`, `{"a":1}`, `{"a":1,"e":null}`},
		{`[1,2]`, `{"a":"b","c":null}`, `{"a":"b"}`},
		{`{}`, `{"a":{"bb":{"ccc":null}}}`, `{"a":{"bb":{}}}`},
	} {
		target, err := decodeJSON([]byte(tc.target))
		if err != nil {
			t.Fatal(err)
		}
		patch, err := decodeJSON([]byte(tc.patch))
		if err != nil {
			t.Fatal(err)
		}
		got, err := json.Marshal(mergePatch(target, patch))
		if err != nil || string(got) != tc.want {
			t.Errorf("merge %s into %s = %s, %v; want %s", tc.patch, tc.target, got, err, tc.want)
		}
	}
}

func TestRuleFromHTTPChaos(t *testing.T) {
	sel := api.PodSelector{Mode: api.ModeAll}
	for _, tc := range []struct {
		name    string
		spec    *api.HTTPChaosSpec
		want    Rule
		wantErr string
	}{
		{
			name: "an abort on a path keeps target, port, path and method",
			spec: &api.HTTPChaosSpec{PodSelector: sel, Target: api.HTTPRequest, Port: 8080, Path: ptr.To("/api/*"), Method: ptr.To("GET"), Abort: ptr.To(true)},
			want: Rule{Target: api.HTTPRequest, Port: 8080, Path: "/api/*", Method: "GET", Abort: true},
		},
		{
			name: "a response rule keeps code, headers, delay, replace and patch",
			spec: &api.HTTPChaosSpec{PodSelector: sel, Target: api.HTTPResponse, Port: 80, Code: ptr.To(int32(200)),
				RequestHeaders: map[string]string{"X-A": "1"}, ResponseHeaders: map[string]string{"X-B": "2"}, Delay: ptr.To("1s"),
				Replace: &api.HTTPReplace{Code: ptr.To(int32(503)), Body: []byte("down")},
				Patch:   &api.HTTPPatch{Headers: [][]string{{"X-Chaos", "1"}}}},
			want: Rule{Target: api.HTTPResponse, Port: 80, Code: 200, RequestHeaders: map[string]string{"X-A": "1"}, ResponseHeaders: map[string]string{"X-B": "2"},
				Delay: "1s", Replace: &api.HTTPReplace{Code: ptr.To(int32(503)), Body: []byte("down")}, Patch: &api.HTTPPatch{Headers: [][]string{{"X-Chaos", "1"}}}},
		},
		{
			name:    "TLS is not something the stand-in can do",
			spec:    &api.HTTPChaosSpec{PodSelector: sel, Target: api.HTTPRequest, Port: 443, Abort: ptr.To(true), TLS: &api.HTTPTLS{SecretName: "s"}},
			wantErr: "spec.tls: the fault proxy stand-in serves plain HTTP only",
		},
		{
			name:    "an invalid spec names the rule's field",
			spec:    &api.HTTPChaosSpec{PodSelector: sel, Target: api.HTTPRequest, Port: 8080, Delay: ptr.To("soon")},
			wantErr: `rule.delay: "soon" is not a duration`,
		},
		{
			name:    "a nil spec says so",
			wantErr: "spec: missing",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := RuleFromHTTPChaos(tc.spec)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("rule (-want +got):\n%s", diff)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	ok := Rule{Target: api.HTTPRequest, Port: 8080, Abort: true}
	for _, tc := range []struct {
		name string
		edit func(r *Rule)
		want []string // the fields named, in order
	}{
		{"a minimal abort is valid", func(*Rule) {}, nil},
		{"target and port are required", func(r *Rule) { r.Target, r.Port = "", 0 }, []string{"rule.target", "rule.port"}},
		{"a rule without an action does nothing", func(r *Rule) { r.Abort = false }, []string{"rule"}},
		{"code selects responses only", func(r *Rule) { r.Code = 500 }, []string{"rule.code"}},
		{"code must be a status", func(r *Rule) { r.Target, r.Code = api.HTTPResponse, 42 }, []string{"rule.code"}},
		{"method must be an HTTP method", func(r *Rule) { r.Method = "get" }, []string{"rule.method"}},
		{"delay must be a duration", func(r *Rule) { r.Delay = "2x" }, []string{"rule.delay"}},
		{"delay is bounded", func(r *Rule) { r.Delay = "1h" }, []string{"rule.delay"}},
		{"header names must be tokens", func(r *Rule) { r.RequestHeaders = map[string]string{"Bad Name": "v"} }, []string{"rule.request_headers.Bad Name"}},
		{"replace body is bounded", func(r *Rule) { r.Replace = &api.HTTPReplace{Body: make([]byte, MaxBodyBytes+1)} }, []string{"rule.replace.body"}},
		{"replace path must be absolute", func(r *Rule) { r.Replace = &api.HTTPReplace{Path: ptr.To("api")} }, []string{"rule.replace.path"}},
		{"replace code is for responses", func(r *Rule) { r.Replace = &api.HTTPReplace{Code: ptr.To(int32(503))} }, []string{"rule.replace.code"}},
		{"patch body must be a JSON merge patch", func(r *Rule) {
			r.Patch = &api.HTTPPatch{Body: &api.HTTPPatchBody{Type: "XML", Value: "<a/>"}}
		}, []string{"rule.patch.body.type", "rule.patch.body.value"}},
		{"patch headers are pairs of valid names", func(r *Rule) {
			r.Patch = &api.HTTPPatch{Headers: [][]string{{"X-A"}, {"X:B", "1"}}}
		}, []string{"rule.patch.headers[0]", "rule.patch.headers[1]"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := ok
			tc.edit(&r)
			var got []string
			if err := r.Validate(); err != nil {
				invalid, isInvalid := err.(*api.InvalidError)
				if !isInvalid {
					t.Fatalf("error %T %v, want *api.InvalidError", err, err)
				}
				for _, f := range invalid.Fields {
					got = append(got, f.Field)
					if f.Fix == "" {
						t.Errorf("%s: no fix for %q", f.Field, f.Problem)
					}
				}
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("fields (-want +got):\n%s", diff)
			}
		})
	}
}

func TestNew(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts Options
		want string
	}{
		{"upstream is required", Options{Port: 8080}, "upstream: missing"},
		{"upstream must be an http URL", Options{Upstream: "127.0.0.1:5000", Port: 8080}, `upstream: "127.0.0.1:5000" is not an http URL`},
		{"port is required", Options{Upstream: "http://127.0.0.1:5000"}, "port: 0 is not a port"},
		{"a bad listen address is named", Options{Upstream: "http://127.0.0.1:5000", Port: 8080, Listen: "nohost"}, "listen: "},
		{"a bad admin address is named", Options{Upstream: "http://127.0.0.1:5000", Port: 8080, Admin: "127.0.0.1:99999"}, "admin: "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(tc.opts)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("New = %v, want an error containing %q", err, tc.want)
			}
		})
	}
}
