package tproxy

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/cloudify-chaos/chaosops/plugin/chaos/api"
	"github.com/google/go-cmp/cmp"
	"k8s.io/utils/ptr"
)

func TestAdminAPI(t *testing.T) {
	p := startProxy(t, newUpstream(t))
	c := client()
	call := func(method, path, body string) (int, string) {
		t.Helper()
		req, err := http.NewRequestWithContext(t.Context(), method, p.AdminURL()+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		data, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(data)
	}
	abort := `{"target":"Request","port":8080,"path":"/api/*","abort":true}`
	for _, tc := range []struct {
		name, method, path, body string
		status                   int
		contains                 string
	}{
		{"a new rule is created", "PUT", "/rules/ns/name/uid-2", abort, 201, `"id":"ns/name/uid-2"`},
		{"an escaped id is the same id", "PUT", "/rules/ns%2Fname%2Fuid-2", abort, 200, `"id":"ns/name/uid-2"`},
		{"another rule sorts before it", "PUT", "/rules/ns/name/uid-1", `{"target":"Response","port":8080,"replace":{"body":"ZG93bg=="}}`, 201, `"body":"ZG93bg=="`},
		{"the list is in id order", "GET", "/rules", "", 200, `[{"id":"ns/name/uid-1","rule":{"target":"Response","port":8080,"replace":{"body":"ZG93bg=="}}},{"id":"ns/name/uid-2"`},
		{"an invalid rule names the field and the fix", "PUT", "/rules/x", `{"target":"Request","port":8080,"delay":"2x"}`, 400, `rule.delay: "2x" is not a duration; use e.g. delay: "500ms"`},
		{"an unknown field is refused", "PUT", "/rules/x", `{"target":"Request","port":8080,"abort":true,"abrot":true}`, 400, `unknown field "abrot"`},
		{"a body that is not JSON is refused", "PUT", "/rules/x", `abort`, 400, "send one Rule as JSON"},
		{"deleting a rule", "DELETE", "/rules/ns/name/uid-2", "", 204, ""},
		{"deleting it again finds nothing", "DELETE", "/rules/ns/name/uid-2", "", 404, "no rule ns/name/uid-2"},
		{"an unknown path is not found", "GET", "/nothing", "", 404, ""},
		{"rules do not take POST", "POST", "/rules/x", abort, 405, ""},
	} {
		status, body := call(tc.method, tc.path, tc.body)
		if status != tc.status || !strings.Contains(body, tc.contains) {
			t.Errorf("%s: %s %s = %d %q, want %d containing %q", tc.name, tc.method, tc.path, status, body, tc.status, tc.contains)
		}
	}
}

func TestAdminClient(t *testing.T) {
	p := startProxy(t, newUpstream(t))
	admin, err := NewAdminClient(p.AdminURL() + "/")
	if err != nil {
		t.Fatal(err)
	}
	if admin.URL() != p.AdminURL() {
		t.Errorf("URL() = %q, want %q", admin.URL(), p.AdminURL())
	}
	rules := map[string]Rule{
		"demo/b/2": abortAPI,
		"demo/a/1": {Target: api.HTTPResponse, Port: testPort, Replace: &api.HTTPReplace{Code: ptr.To(int32(503)), Body: []byte{0, 1, 2}}},
	}
	for id, r := range rules {
		if err := admin.Put(t.Context(), id, r); err != nil {
			t.Fatal(err)
		}
	}
	got, err := admin.List(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	want := []RuleEntry{{"demo/a/1", rules["demo/a/1"]}, {"demo/b/2", rules["demo/b/2"]}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("List (-want +got):\n%s", diff)
	}

	err = admin.Put(t.Context(), "bad", Rule{Target: api.HTTPRequest, Port: testPort})
	if err == nil || !strings.Contains(err.Error(), "400 Bad Request: rule: has no action") {
		t.Errorf("Put of a rule without action = %v", err)
	}

	for _, bad := range []string{"127.0.0.1:19080", "ftp://h", "http://u:p@h:1", "http://h:1?x=1"} {
		if _, err := NewAdminClient(bad); err == nil || !strings.Contains(err.Error(), "is not an http://host:port URL") {
			t.Errorf("NewAdminClient(%q) = %v", bad, err)
		}
	}

	up := newUpstream(t)
	gone, err := New(Options{Upstream: up.URL, Port: testPort})
	if err != nil {
		t.Fatal(err)
	}
	unreachable := gone.AdminURL()
	gone.listener.Close()
	gone.admin.Close()
	nobody, _ := NewAdminClient(unreachable)
	if err := nobody.Put(t.Context(), "ns/x/1", abortAPI); err == nil || !strings.Contains(err.Error(), "fault proxy "+unreachable+": put rule ns/x/1:") {
		t.Errorf("Put to a proxy that is not running = %v", err)
	}
}

func TestRuleLimits(t *testing.T) {
	p, err := New(Options{Upstream: "http://127.0.0.1:1", Port: testPort})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.listener.Close(); p.admin.Close() })
	for i := range MaxRules {
		if _, err := p.SetRule(fmt.Sprintf("r%03d", i), abortAPI); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := p.SetRule("one-too-many", abortAPI); err == nil || !strings.Contains(err.Error(), "delete some first") {
		t.Errorf("rule %d: %v, want a refusal", MaxRules+1, err)
	}
	if created, err := p.SetRule("r000", abortAPI); err != nil || created {
		t.Errorf("replacing a rule at the limit: created %v, %v", created, err)
	}
	for _, id := range []string{"", "has space", "ctl\x01", strings.Repeat("x", maxIDLength+1)} {
		if _, err := p.SetRule(id, abortAPI); err == nil || !strings.HasPrefix(err.Error(), "id: ") {
			t.Errorf("SetRule(%q) = %v, want an id error", id, err)
		}
	}
}
