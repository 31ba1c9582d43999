package manifest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/cloudify-chaos/chaosops/plugin/download"
)

// summary is what tests compare about an object.
type summary struct {
	Origin string
	Kind   string
	Name   string
}

func summarize(objs []Object) []summary {
	var s []summary
	for _, o := range objs {
		s = append(s, summary{Origin: o.Origin(), Kind: o.GetKind(), Name: o.GetName()})
	}
	return s
}

func TestParse(t *testing.T) {
	tests := []struct {
		name   string
		text   string
		values map[string]any
		want   []summary
	}{{
		name: "a multi-document YAML gives one object per document with its line",
		text: `apiVersion: v1
kind: ConfigMap
metadata: {name: a}
---
apiVersion: v1
kind: Secret
metadata: {name: b}
`,
		want: []summary{
			{"app.yaml:1 (document 1)", "ConfigMap", "a"},
			{"app.yaml:5 (document 2)", "Secret", "b"},
		},
	}, {
		name: "empty documents and comment-only documents are skipped and not counted",
		text: `# license header
---
---
apiVersion: v1
kind: ConfigMap
metadata: {name: a}
--- # trailing comment
`,
		want: []summary{{"app.yaml:4 (document 1)", "ConfigMap", "a"}},
	}, {
		name: "a JSON stream gives one object per value",
		text: `{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}}

{"apiVersion": "v1",
 "kind": "ConfigMap", "metadata": {"name": "b"}}`,
		want: []summary{
			{"app.yaml:1 (document 1)", "ConfigMap", "a"},
			{"app.yaml:3 (document 2)", "ConfigMap", "b"},
		},
	}, {
		name: "a v1 List is flattened and its items remember their position",
		text: `apiVersion: v1
kind: List
items:
- {apiVersion: v1, kind: ConfigMap, metadata: {name: a}}
- {apiVersion: v1, kind: Service, metadata: {name: b}}
`,
		want: []summary{
			{"app.yaml:1 (document 1, item 1)", "ConfigMap", "a"},
			{"app.yaml:1 (document 1, item 2)", "Service", "b"},
		},
	}, {
		name: "a ConfigMapList gives its items the list's apiVersion and kind",
		text: `apiVersion: v1
kind: ConfigMapList
items:
- metadata: {name: a}
  data: {k: v}
`,
		want: []summary{{"app.yaml:1 (document 1, item 1)", "ConfigMap", "a"}},
	}, {
		name:   "values are rendered before parsing",
		text:   "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: {{ .name }}}\n{{ range .extra }}---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: {{ . }}}\n{{ end }}",
		values: map[string]any{"name": "a", "extra": []any{"b"}},
		want: []summary{
			{"app.yaml:1 (document 1)", "ConfigMap", "a"},
			{"app.yaml:5 (document 2)", "ConfigMap", "b"},
		},
	}, {
		name: "without values template braces stay literal",
		text: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {alert: '{{ $labels.pod }}'}\n",
		want: []summary{{"app.yaml:1 (document 1)", "ConfigMap", "a"}},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			objs, err := Parse("app.yaml", []byte(tt.text), tt.values)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, summarize(objs)); diff != "" {
				t.Errorf("objects (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseKeepsNumbersAsIntegers(t *testing.T) {
	objs, err := Parse("svc.yaml", []byte("apiVersion: v1\nkind: Service\nmetadata: {name: a}\nspec: {ports: [{port: 80}]}\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	port := objs[0].Object["spec"].(map[string]any)["ports"].([]any)[0].(map[string]any)["port"]
	if _, ok := port.(int64); !ok {
		t.Errorf("port is %T, want int64 as unstructured expects", port)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name   string
		text   string
		values map[string]any
		want   []string // substrings of the error, in order
	}{{
		name: "unparsable YAML names the file line of the bad document",
		text: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\n  bad: [\n",
		want: []string{"app.yaml:", "yaml:"},
	}, {
		name: "a document without kind is named by file, line and document",
		text: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\napiVersion: v1\nmetadata: {name: b}\n",
		want: []string{"app.yaml:5 (document 2): missing kind"},
	}, {
		name: "a document without metadata.name is an error",
		text: "apiVersion: v1\nkind: ConfigMap\nmetadata: {}\n",
		want: []string{"app.yaml:1 (document 1): ConfigMap: missing metadata.name"},
	}, {
		name: "generateName is refused because apply needs a name",
		text: "apiVersion: v1\nkind: ConfigMap\nmetadata: {generateName: a-}\n",
		want: []string{"metadata.generateName cannot be applied"},
	}, {
		name: "a scalar document is not an object",
		text: "just text\n",
		want: []string{"app.yaml:1: document is not an object"},
	}, {
		name: "a separator followed by content is refused",
		text: "apiVersion: v1\n--- kind: x\n",
		want: []string{"app.yaml:2: invalid document separator"},
	}, {
		name: "a bad list item is named by its position",
		text: "apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: ConfigMap, metadata: {name: a}}\n- {apiVersion: v1, kind: ConfigMap}\n",
		want: []string{"app.yaml:1 (document 1, item 2): ConfigMap: missing metadata.name"},
	}, {
		name:   "a missing template value names the file and line",
		text:   "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: {{ .name }}}\n",
		values: map[string]any{},
		want:   []string{`app.yaml:3: template: at <.name>: map has no entry for key "name"`},
	}, {
		name:   "a template syntax error names the file and line",
		text:   "apiVersion: v1\n\nkind: {{ .kind \n",
		values: map[string]any{"kind": "x"},
		want:   []string{"app.yaml:4: template: unclosed action started at app.yaml:3"},
	}, {
		name: "bad JSON names the line",
		text: "{\"apiVersion\": \"v1\"}\n{\"kind\": }\n",
		want: []string{"app.yaml:2: json:"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("app.yaml", []byte(tt.text), tt.values)
			if err == nil {
				t.Fatal("no error")
			}
			var me *Error
			if !errors.As(err, &me) {
				t.Errorf("error %v is not a *manifest.Error", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestLoadFromDirectory(t *testing.T) {
	dir := t.TempDir()
	write := func(rel, text string) {
		t.Helper()
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cm := func(name string) string { return "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: " + name + "}\n" }
	write("b.yaml", cm("b"))
	write("a/z.yml", cm("az"))
	write("a.json", `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a"}}`)
	write("README.md", "not a manifest")
	write("c/notes.txt", "not a manifest")

	t.Run("a directory is read recursively in sorted order, manifest files only", func(t *testing.T) {
		objs, err := Load(t.Context(), []Source{{Path: dir}}, Options{})
		if err != nil {
			t.Fatal(err)
		}
		want := []summary{
			{filepath.Join(dir, "a/z.yml") + ":1 (document 1)", "ConfigMap", "az"},
			{filepath.Join(dir, "a.json") + ":1 (document 1)", "ConfigMap", "a"},
			{filepath.Join(dir, "b.yaml") + ":1 (document 1)", "ConfigMap", "b"},
		}
		if diff := cmp.Diff(want, summarize(objs)); diff != "" {
			t.Errorf("objects (-want +got):\n%s", diff)
		}
	})
	t.Run("sources are read in the order given", func(t *testing.T) {
		objs, err := Load(t.Context(), []Source{
			{Inline: cm("first"), Name: "one"},
			{Path: filepath.Join(dir, "b.yaml")},
		}, Options{})
		if err != nil {
			t.Fatal(err)
		}
		want := []summary{
			{"one:1 (document 1)", "ConfigMap", "first"},
			{filepath.Join(dir, "b.yaml") + ":1 (document 1)", "ConfigMap", "b"},
		}
		if diff := cmp.Diff(want, summarize(objs)); diff != "" {
			t.Errorf("objects (-want +got):\n%s", diff)
		}
	})
	t.Run("a directory without manifests is an error", func(t *testing.T) {
		_, err := Load(t.Context(), []Source{{Path: filepath.Join(dir, "c")}}, Options{})
		if err == nil || !strings.Contains(err.Error(), "no .yaml, .yml or .json files") {
			t.Errorf("error = %v", err)
		}
	})
	t.Run("a missing path is named", func(t *testing.T) {
		_, err := Load(t.Context(), []Source{{Path: filepath.Join(dir, "nope.yaml")}}, Options{})
		if err == nil || !strings.Contains(err.Error(), "nope.yaml: no such file") {
			t.Errorf("error = %v", err)
		}
	})
	t.Run("a source must set exactly one of inline, path or url", func(t *testing.T) {
		_, err := Load(t.Context(), []Source{{Inline: cm("a")}, {Inline: cm("a"), Path: dir}}, Options{})
		if err == nil || !strings.Contains(err.Error(), "source 2: set exactly one of inline, path or url") {
			t.Errorf("error = %v", err)
		}
	})
	t.Run("a file over the size limit is refused", func(t *testing.T) {
		_, err := Load(t.Context(), []Source{{Path: filepath.Join(dir, "b.yaml")}}, Options{MaxBytes: 10})
		if err == nil || !strings.Contains(err.Error(), "more than the limit") {
			t.Errorf("error = %v", err)
		}
	})
}

func TestLoadFromURL(t *testing.T) {
	body := "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: remote}\n"
	sum := sha256.Sum256([]byte(body))
	good := hex.EncodeToString(sum[:])
	var flaky atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/missing.yaml":
			http.NotFound(w, r)
			return
		case "/down.yaml":
			http.Error(w, "maintenance", http.StatusServiceUnavailable)
			return
		case "/flaky.yaml":
			if flaky.Add(1) <= 2 {
				http.Error(w, "busy", http.StatusServiceUnavailable)
				return
			}
		}
		w.Write([]byte(body))
	}))
	// The untrusted-certificate case makes the server log a handshake error.
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	defer srv.Close()
	// A short backoff keeps the retrying cases fast.
	trusted := Options{Download: download.Options{Client: srv.Client(), Backoff: time.Millisecond}}

	t.Run("a URL with a matching sha256 is loaded and named without its query", func(t *testing.T) {
		objs, err := Load(t.Context(), []Source{{URL: srv.URL + "/app.yaml?token=s3cr3t", SHA256: "sha256:" + good}}, trusted)
		if err != nil {
			t.Fatal(err)
		}
		want := []summary{{srv.URL + "/app.yaml:1 (document 1)", "ConfigMap", "remote"}}
		if diff := cmp.Diff(want, summarize(objs)); diff != "" {
			t.Errorf("objects (-want +got):\n%s", diff)
		}
	})
	errorCases := []struct {
		name string
		src  Source
		opts Options
		want string
	}{
		{"a URL without sha256 is refused", Source{URL: srv.URL + "/app.yaml"}, trusted, "sha256 is required"},
		{"a URL whose content does not match sha256 is refused", Source{URL: srv.URL + "/app.yaml", SHA256: strings.Repeat("0", 64)}, trusted, "sha256 mismatch"},
		{"a plain http URL is refused", Source{URL: "http://example.com/app.yaml", SHA256: good}, trusted, `only https:// URLs are fetched`},
		{"a server certificate that is not trusted fails", Source{URL: srv.URL + "/app.yaml", SHA256: good}, Options{}, "certificate"},
		{"an HTTP error status is reported", Source{URL: srv.URL + "/missing.yaml", SHA256: good}, trusted, "HTTP 404 Not Found; check the url"},
		{"credentials in the URL never appear in errors", Source{URL: "https://user:pw@127.0.0.1:1/x.yaml?sig=s3cr3t", SHA256: good}, trusted, "https://127.0.0.1:1/x.yaml: fetch:"},
		{"a server that keeps failing is retried, then named with the fix", Source{URL: srv.URL + "/down.yaml?sig=s3cr3t", SHA256: good}, trusted,
			srv.URL + "/down.yaml: fetch: HTTP 503 Service Unavailable (3 attempts); if it stays unreachable, mirror the file into the blueprint and give it in files"},
	}
	for _, tt := range errorCases {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(t.Context(), []Source{tt.src}, tt.opts)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want it to contain %q", err, tt.want)
			}
			for _, secret := range []string{"s3cr3t", "pw@"} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error %q leaks %q", err, secret)
				}
			}
		})
	}
	t.Run("a server that answers 503 twice, then serves, is loaded", func(t *testing.T) {
		objs, err := Load(t.Context(), []Source{{URL: srv.URL + "/flaky.yaml", SHA256: good}}, trusted)
		if err != nil || len(objs) != 1 {
			t.Fatalf("Load = %d objects, %v", len(objs), err)
		}
		if n := flaky.Load(); n != 3 {
			t.Errorf("%d requests, want 3", n)
		}
	})
	t.Run("a cancelled context stops the download", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		_, err := Load(ctx, []Source{{URL: srv.URL + "/app.yaml", SHA256: good}}, trusted)
		if !errors.Is(err, context.Canceled) {
			t.Errorf("error = %v, want context.Canceled", err)
		}
	})
}
