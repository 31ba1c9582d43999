package scriptrunner

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/cloudify-chaos/chaosops/plugin/cloudify"
)

func TestProxyWalksLikeCloudify(t *testing.T) {
	state := &State{
		Operation:    Operation{Name: "chaos_actions.run_http_chaos", RetryNumber: 2},
		Node:         Node{ID: "chaos", Properties: map[string]any{"ports": []any{int64(80), int64(443)}, "nested": map[string]any{"a": "b"}}},
		Instance:     Instance{ID: "chaos_1"},
		DeploymentID: "dep", ExecutionID: "exec",
	}
	p, err := NewProxy(state)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	c, err := cloudify.NewClient(p.URL())
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		args []any
		want any
		err  string
	}{
		{"an attribute with a dash is looked up with an underscore", []any{"execution-id"}, "exec", ""},
		{"a whole dict is returned", []any{"node", "properties", "nested"}, map[string]any{"a": "b"}, ""},
		{"a list index in a dotted path", []any{"node", "properties", "ports[1]"}, int64(443), ""},
		{"a missing path is an error", []any{"node", "properties", "nope.x"}, nil, "illegal path: nope.x"},
		{"setting a dotted path creates its parents", []any{"instance", "runtime_properties", "go.said", "x"}, nil, ""},
		{"the set value reads back", []any{"instance", "runtime-properties", "go"}, map[string]any{"said": "x"}, ""},
		{"a JSON number is stored as a number", []any{"instance", "runtime_properties", "count", int64(3)}, nil, ""},
		{"the retry number is an integer", []any{"operation", "retry_number"}, int64(2), ""},
		{"returns with a map needs a trailing empty object", []any{"returns", map[string]any{"a": int64(1)}, map[string]any{}}, nil, ""},
		{"returns with a bare map is taken as keyword arguments", []any{"returns", map[string]any{"a": int64(1)}}, nil, "unexpected keyword argument"},
		{"an unknown attribute is an error", []any{"nonsense"}, nil, "cannot be processed"},
		{"a lone percent in a log message is a format error", []any{"logger", "info", "100%d"}, nil, "not enough arguments"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := c.Call(t.Context(), tc.args...)
			if tc.err != "" {
				var pe *cloudify.ProxyError
				if !errors.As(err, &pe) || !strings.Contains(pe.Message, tc.err) {
					t.Fatalf("err = %v, want a proxy error containing %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
	if state.Instance.RuntimeProperties["count"] != int64(3) {
		t.Errorf("count = %#v", state.Instance.RuntimeProperties["count"])
	}
	t.Run("abort answers stop_operation", func(t *testing.T) {
		_, err := c.Call(t.Context(), "abort_operation", "boom")
		if !errors.Is(err, cloudify.ErrStopOperation) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("a closed proxy is reported as gone", func(t *testing.T) {
		p.Close()
		_, err := c.Call(t.Context(), "execution-id")
		if !errors.Is(err, cloudify.ErrProxyGone) {
			t.Fatalf("err = %v", err)
		}
	})
}
