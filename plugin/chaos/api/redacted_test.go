package api

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/cloudify-chaos/chaosops/plugin/redact"
)

const canary = "canary-7f3a9c"

func TestRedacted(t *testing.T) {
	str := func(s string) *string { return &s }
	m := redact.Mask
	for _, tc := range []struct {
		name string
		spec *HTTPChaosSpec
		want *HTTPChaosSpec
	}{
		{
			name: "replace headers: credential values are masked, others kept",
			spec: &HTTPChaosSpec{Replace: &HTTPReplace{Path: str("/x"), Headers: map[string]string{"Authorization": "Bearer " + canary, "X-Chaos": "1"}}},
			want: &HTTPChaosSpec{Replace: &HTTPReplace{Path: str("/x"), Headers: map[string]string{"Authorization": m, "X-Chaos": "1"}}},
		},
		{
			name: "patch headers: pairs named like a token, cookie or key are masked",
			spec: &HTTPChaosSpec{Patch: &HTTPPatch{Headers: [][]string{{"X-Auth-Token", canary}, {"Cookie", "sid=" + canary}, {"X-Api-Key", canary}, {"X-Chaos", "1"}}}},
			want: &HTTPChaosSpec{Patch: &HTTPPatch{Headers: [][]string{{"X-Auth-Token", m}, {"Cookie", m}, {"X-Api-Key", m}, {"X-Chaos", "1"}}}},
		},
		{
			name: "request and response header matchers are masked",
			spec: &HTTPChaosSpec{RequestHeaders: map[string]string{"Proxy-Authorization": canary, "Accept": "text/html"}, ResponseHeaders: map[string]string{"Set-Cookie": canary}},
			want: &HTTPChaosSpec{RequestHeaders: map[string]string{"Proxy-Authorization": m, "Accept": "text/html"}, ResponseHeaders: map[string]string{"Set-Cookie": m}},
		},
		{
			name: "the TLS Secret's name is masked, its keys kept",
			spec: &HTTPChaosSpec{TLS: &HTTPTLS{SecretName: canary, SecretNamespace: "demo", CertName: "tls.crt", KeyName: "tls.key"}},
			want: &HTTPChaosSpec{TLS: &HTTPTLS{SecretName: m, SecretNamespace: "demo", CertName: "tls.crt", KeyName: "tls.key"}},
		},
		{
			name: "a spec without headers is unchanged",
			spec: &HTTPChaosSpec{Target: HTTPRequest, Port: 80, Abort: new(bool)},
			want: &HTTPChaosSpec{Target: HTTPRequest, Port: 80, Abort: new(bool)},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before, _ := json.Marshal(tc.spec)
			got := Redacted(tc.spec)
			if d := cmp.Diff(Spec(tc.want), got); d != "" {
				t.Errorf("redacted (-want +got):\n%s", d)
			}
			if after, _ := json.Marshal(tc.spec); string(after) != string(before) {
				t.Errorf("the spec itself changed, so the object would be created without the real values:\n%s\n%s", before, after)
			}
			if again := Redacted(got); !cmp.Equal(got, again) {
				t.Errorf("redacting twice changes the result: %s", cmp.Diff(got, again))
			}
		})
	}
	t.Run("SecretValues lists the header values Redacted masks, not the Secret's name", func(t *testing.T) {
		s := &HTTPChaosSpec{TLS: &HTTPTLS{SecretName: "web-tls"}, RequestHeaders: map[string]string{"Cookie": "c-" + canary, "Accept": "a"}, Patch: &HTTPPatch{Headers: [][]string{{"X-Api-Key", "k-" + canary}, {"X-Chaos", "1"}}}}
		if d := cmp.Diff([]string{"c-" + canary, "k-" + canary}, SecretValues(s)); d != "" {
			t.Errorf("secret values (-want +got):\n%s", d)
		}
		if got := SecretValues(&PodChaosSpec{}); got != nil {
			t.Errorf("a PodChaos has secret values %v", got)
		}
	})
	t.Run("kinds without secret-looking fields are returned as they are", func(t *testing.T) {
		s := &PodChaosSpec{Action: "pod-kill"}
		if got := Redacted(s); got != Spec(s) {
			t.Errorf("got a different spec %#v", got)
		}
		if Redacted(nil) != nil {
			t.Errorf("nil spec not kept nil")
		}
	})
}
