package chaosdaemon

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/utils/ptr"

	"github.com/cloudify-chaos/chaosops/plugin/chaos/api"
	"github.com/cloudify-chaos/chaosops/plugin/internal/standin/tproxy"
)

func TestProxyRules(t *testing.T) {
	for _, tc := range []struct {
		name    string
		json    string // rules of an ApplyHttpChaos request
		want    []tproxy.Rule
		wantErr string
	}{
		{
			name: "an empty list is no rules",
			json: `[]`,
			want: []tproxy.Rule{},
		},
		{
			name: "an abort of requests keeps every selector",
			json: `[{"target":"Request","selector":{"port":8080,"path":"/api/*","method":"GET",
				"request_headers":{"X-User":"alice"}},"actions":{"abort":true}}]`,
			want: []tproxy.Rule{{Target: api.HTTPRequest, Port: 8080, Path: "/api/*", Method: "GET",
				RequestHeaders: map[string]string{"X-User": "alice"}, Abort: true}},
		},
		{
			name: "a delay of responses selects by code and response headers",
			json: `[{"target":"Response","selector":{"port":8080,"code":200,"response_headers":{"Content-Type":"application/json"}},
				"actions":{"delay":"300ms"}}]`,
			want: []tproxy.Rule{{Target: api.HTTPResponse, Port: 8080, Code: 200,
				ResponseHeaders: map[string]string{"Content-Type": "application/json"}, Delay: "300ms"}},
		},
		{
			name: "a replace of requests keeps its base64 body, path, method, queries and headers",
			json: `[{"target":"Request","selector":{"port":8080},"actions":{"replace":{"path":"/v2","method":"POST",
				"body":"aGVsbG8=","queries":{"q":"1"},"headers":{"X-A":"b"}}}}]`,
			want: []tproxy.Rule{{Target: api.HTTPRequest, Port: 8080, Replace: &api.HTTPReplace{
				Path: ptr.To("/v2"), Method: ptr.To("POST"), Body: []byte("hello"),
				Queries: map[string]string{"q": "1"}, Headers: map[string]string{"X-A": "b"}}}},
		},
		{
			name: "a replace of responses sets the code",
			json: `[{"target":"Response","selector":{"port":8080},"actions":{"replace":{"code":503}}}]`,
			want: []tproxy.Rule{{Target: api.HTTPResponse, Port: 8080, Replace: &api.HTTPReplace{Code: ptr.To[int32](503)}}},
		},
		{
			name: "a patch keeps its JSON body, queries and headers",
			json: `[{"target":"Request","selector":{"port":8080},"actions":{"patch":{"body":{"type":"JSON","value":"{\"x\":1}"},
				"queries":[["a","1"]],"headers":[["Set-Cookie","c=1"]]}}}]`,
			want: []tproxy.Rule{{Target: api.HTTPRequest, Port: 8080, Patch: &api.HTTPPatch{
				Body: &api.HTTPPatchBody{Type: "JSON", Value: `{"x":1}`}, Queries: [][]string{{"a", "1"}}, Headers: [][]string{{"Set-Cookie", "c=1"}}}}},
		},
		{
			name: "several rules keep their order and actions combine",
			json: `[{"target":"Request","selector":{"port":8080,"path":"/a"},"actions":{"delay":"1s","abort":true}},
				{"target":"Request","selector":{"port":8080,"path":"/b"},"actions":{"abort":true}}]`,
			want: []tproxy.Rule{
				{Target: api.HTTPRequest, Port: 8080, Path: "/a", Delay: "1s", Abort: true},
				{Target: api.HTTPRequest, Port: 8080, Path: "/b", Abort: true},
			},
		},
		{name: "rules that are not JSON are refused", json: `[{`, wantErr: "rules: unexpected EOF"},
		{name: "no rules at all is not a list", json: ``, wantErr: `rules: empty`},
		{
			name:    "a field the stand-in does not know is refused, not ignored",
			json:    `[{"target":"Request","selector":{"port":8080,"host":"x"},"actions":{"abort":true}}]`,
			wantErr: `unknown field "host"`,
		},
		{
			name:    "a target that is neither Request nor Response names the rule",
			json:    `[{"target":"Request","selector":{"port":8080},"actions":{"abort":true}},{"target":"Both","selector":{"port":8080},"actions":{"abort":true}}]`,
			wantErr: "rules[1]: rule.target",
		},
		{
			name:    "a delay that is not a duration is refused",
			json:    `[{"target":"Request","selector":{"port":8080},"actions":{"delay":"soon"}}]`,
			wantErr: "rules[0]: rule.delay",
		},
		{
			name:    "a rule without a port is refused",
			json:    `[{"target":"Request","selector":{},"actions":{"abort":true}}]`,
			wantErr: "rules[0]: rule.port",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rules, err := DecodeRules(tc.json)
			var got []tproxy.Rule
			if err == nil {
				got, err = ProxyRules(rules)
			}
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
				t.Errorf("rules (-want +got):\n%s", diff)
			}
		})
	}
}

func TestEncodeRules(t *testing.T) {
	t.Run("rules encode as the controller sends them and decode back", func(t *testing.T) {
		rules := []HTTPRule{{
			Target:   api.HTTPRequest,
			Selector: HTTPSelector{Port: ptr.To[int32](8080), Path: ptr.To("/api/*")},
			Actions:  HTTPActions{Abort: ptr.To(true)},
		}}
		got, err := EncodeRules(rules)
		if err != nil {
			t.Fatal(err)
		}
		if want := `[{"target":"Request","selector":{"port":8080,"path":"/api/*"},"actions":{"abort":true}}]`; got != want {
			t.Errorf("EncodeRules = %s, want %s", got, want)
		}
		back, err := DecodeRules(got)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(rules, back); diff != "" {
			t.Errorf("round trip (-want +got):\n%s", diff)
		}
	})
	t.Run("no rules encode as an empty list", func(t *testing.T) {
		if got, _ := EncodeRules(nil); got != "[]" {
			t.Errorf("EncodeRules(nil) = %s, want []", got)
		}
	})
}
