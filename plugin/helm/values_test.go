package helm

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cloudify-chaos/chaosops/plugin/failure"
	"github.com/google/go-cmp/cmp"
)

func TestMergeValues(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	base := write("base.yaml", "greeting: hello\ndashboard: {securityMode: true, port: 2333}\nlist: [a, b]\n")
	over := write("over.yaml", "dashboard: {port: 8080}\nlist: [c]\n")
	bad := write("bad.yaml", "password: s3cr3t\n  indented: wrong\n")
	for _, tc := range []struct {
		name    string
		files   []string
		values  map[string]any
		set     []string
		want    map[string]any
		wantErr string
	}{
		{name: "nothing gives empty values", want: map[string]any{}},
		{name: "a later file merges maps and replaces lists", files: []string{base, over},
			want: map[string]any{"greeting": "hello", "dashboard": map[string]any{"securityMode": true, "port": float64(8080)}, "list": []any{"c"}}},
		{name: "values override the files", files: []string{base}, values: map[string]any{"dashboard": map[string]any{"securityMode": false}},
			want: map[string]any{"greeting": "hello", "dashboard": map[string]any{"securityMode": false, "port": float64(2333)}, "list": []any{"a", "b"}}},
		{name: "set expressions come last", files: []string{base}, set: []string{"dashboard.port=1", "chaosDaemon.runtime=containerd", "list={x,y}"},
			want: map[string]any{"greeting": "hello", "dashboard": map[string]any{"securityMode": true, "port": int64(1)}, "list": []any{"x", "y"},
				"chaosDaemon": map[string]any{"runtime": "containerd"}}},
		{name: "a missing file is named", files: []string{filepath.Join(dir, "none.yaml")}, wantErr: "values file " + filepath.Join(dir, "none.yaml") + ": cannot read it"},
		{name: "a broken file is named with its line, not its content", files: []string{bad}, wantErr: "values file " + bad + ": not a YAML mapping of values (syntax error at line 2)"},
		{name: "a broken set expression is named", set: []string{"novalue"}, wantErr: `set: "novalue"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := MergeValues(tc.files, tc.values, tc.set)
			if tc.wantErr != "" {
				if !failure.IsInvalid(err) || !strings.Contains(err.Error(), tc.wantErr) || strings.Contains(err.Error(), "s3cr3t") {
					t.Fatalf("error %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("values (-want +got):\n%s", d)
			}
		})
	}
}
