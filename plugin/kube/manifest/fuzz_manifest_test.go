package manifest

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// FuzzParse feeds arbitrary text to Parse, plain and as a template: it must
// never panic, every error must be an *Error whose origin names the source,
// and every object returned must be one server-side apply can identify.
// Seeds: testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	f.Add([]byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n"), false)
	f.Add([]byte("apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Secret\n  metadata: {name: s}\n"), false)
	f.Add([]byte(`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"{{ .name }}"}}`), true)
	f.Fuzz(func(t *testing.T, data []byte, templated bool) {
		if len(data) > 64<<10 {
			return // large inputs only slow the fuzzer down; size limits are Load's job
		}
		var values map[string]any
		if templated {
			values = map[string]any{"name": "fuzz", "replicas": 2, "list": []any{"a", "b"}}
		}
		const name = "fuzz.yaml"
		var objs []Object
		var err error
		done := make(chan struct{})
		go func() {
			defer close(done)
			objs, err = Parse(name, data, values)
		}()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("Parse did not return within 10s (a hang) for:\n%s", data)
		}
		if err != nil {
			for _, leaf := range leaves(err) {
				var me *Error
				if !errors.As(leaf, &me) {
					t.Fatalf("error %q (%T) is not a *manifest.Error", leaf, leaf)
				}
				if !strings.HasPrefix(me.Origin, name) {
					t.Fatalf("error %q does not name the source %s", leaf, name)
				}
			}
			return
		}
		for _, o := range objs {
			if o.GetAPIVersion() == "" || o.GetKind() == "" || o.GetName() == "" {
				t.Fatalf("object from %s lacks apiVersion, kind or name: %v", o.Origin(), o.Object)
			}
			if o.Source != name || o.Line < 1 || o.Doc < 1 {
				t.Fatalf("object has no usable origin: %q line %d doc %d", o.Source, o.Line, o.Doc)
			}
		}
	})
}

// leaves flattens errors.Join trees.
func leaves(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, leaves(e)...)
		}
		return out
	}
	return []error{err}
}
