package local_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/cloudify-chaos/chaosops/plugin/kube/manifest"
)

var update = flag.Bool("update", false, "rewrite manifests/python-prometheus/app-configmap.yaml, and the Deployment's checksum of it, from examples/python-prometheus")

// regenerate is the command that rewrites the generated ConfigMap.
const regenerate = "go test ./plugin/local -short -run TestPythonPrometheusConfigMap -update"

const (
	// appConfigMap is the ConfigMap the Deployment runs the app's code from.
	appConfigMap = "python-prometheus-app"
	// checksumAnnotation on the pod template is the sha256 of the
	// generated file, so that new code rolls the pods.
	checksumAnnotation = "chaosops.io/app-configmap-sha256"
	// prebuiltImage stands for an image built from the app's Dockerfile.
	prebuiltImage = "registry.example/python-prometheus:0.1.0"
)

// appFiles are the files of examples/python-prometheus that the ConfigMap
// holds under their own names.
var appFiles = []string{"app.py", "requirements.txt"}

func exampleDir() string { return filepath.Join(repoRoot(), "examples", "python-prometheus") }

func appManifests() string { return filepath.Join(repoRoot(), "manifests", "python-prometheus") }

// appConfigMapYAML renders the ConfigMap manifest (a kubernetes.apply
// template: its namespace is {{ .namespace }}) holding appFiles read from
// dir.
func appConfigMapYAML(dir string) ([]byte, error) {
	var b strings.Builder
	b.WriteString("# Generated from examples/python-prometheus (app.py, requirements.txt) by\n")
	b.WriteString("# `" + regenerate + "`;\n")
	b.WriteString("# edit those files, not this one. The Deployment runs app.py from it on the\n")
	b.WriteString("# stock Python image when the value image is empty.\n")
	b.WriteString("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: " + appConfigMap + "\n  namespace: {{ .namespace }}\n")
	b.WriteString("  labels:\n    app: python-prometheus\n    app.kubernetes.io/part-of: chaosops-demo\ndata:\n")
	for _, name := range appFiles {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return nil, err
		}
		block, err := literalBlock(string(data))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		b.WriteString("  " + name + ": " + block)
	}
	return []byte(b.String()), nil
}

// literalBlock returns text as a YAML literal block scalar indented by
// four spaces, its chomping indicator keeping the final newlines exactly,
// with "{{" escaped for the template engine that kubernetes.apply runs.
func literalBlock(text string) (string, error) {
	body := strings.TrimRight(text, "\n")
	switch {
	case body == "":
		return "", errors.New("is empty")
	case strings.ContainsAny(body, "\r\x00"):
		return "", errors.New("holds a carriage return or NUL; a block scalar cannot keep it")
	case body[0] == ' ' || body[0] == '\t':
		return "", errors.New("starts with whitespace; a block scalar would need an indentation indicator")
	}
	newlines := len(text) - len(body)
	indicator := map[int]string{0: "|-", 1: "|"}[newlines]
	if indicator == "" {
		indicator = "|+"
	}
	var b strings.Builder
	b.WriteString(indicator + "\n")
	for _, line := range strings.Split(body, "\n") {
		if line != "" {
			b.WriteString("    " + strings.ReplaceAll(line, "{{", `{{"{{"}}`))
		}
		b.WriteString("\n")
	}
	for range newlines - 1 {
		b.WriteString("\n")
	}
	return b.String(), nil
}

var checksumLine = regexp.MustCompile(`(?m)^(\s+` + regexp.QuoteMeta(checksumAnnotation) + `: )"([0-9a-f]*)"$`)

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// TestPythonPrometheusConfigMap fails when the generated ConfigMap (or the
// Deployment's checksum of it) drifted from examples/python-prometheus;
// with -update it rewrites both.
func TestPythonPrometheusConfigMap(t *testing.T) {
	path := filepath.Join(appManifests(), "app-configmap.yaml")
	depPath := filepath.Join(appManifests(), "deployment.yaml")
	want, err := appConfigMapYAML(exampleDir())
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile(path, want, 0o644); err != nil {
			t.Fatal(err)
		}
		dep, err := os.ReadFile(depPath)
		if err != nil {
			t.Fatal(err)
		}
		dep = checksumLine.ReplaceAll(dep, []byte(`${1}"`+sha256Hex(want)+`"`))
		if err := os.WriteFile(depPath, dep, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (%s writes it)", err, regenerate)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s drifted from examples/python-prometheus; regenerate it with %s", path, regenerate)
	}

	t.Run("the Deployment's checksum annotation is the file's sha256", func(t *testing.T) {
		dep, err := os.ReadFile(depPath)
		if err != nil {
			t.Fatal(err)
		}
		m := checksumLine.FindAllSubmatch(dep, -1)
		if len(m) != 1 {
			t.Fatalf("%s has %d lines %q, want 1", depPath, len(m), checksumAnnotation)
		}
		if string(m[0][2]) != sha256Hex(got) {
			t.Fatalf("%s: %s is %s, the file's sha256 is %s; run %s", depPath, checksumAnnotation, m[0][2], sha256Hex(got), regenerate)
		}
	})

	t.Run("rendered, the ConfigMap holds app.py and requirements.txt byte for byte", func(t *testing.T) {
		objs, err := manifest.Parse(path, got, map[string]any{"namespace": "demo-ns"})
		if err != nil {
			t.Fatal(err)
		}
		if len(objs) != 1 || objs[0].GetKind() != "ConfigMap" || objs[0].GetName() != appConfigMap || objs[0].GetNamespace() != "demo-ns" {
			t.Fatalf("want one ConfigMap/demo-ns/%s, got %v", appConfigMap, objs)
		}
		data, _, _ := unstructured.NestedStringMap(objs[0].Object, "data")
		wantData := map[string]string{}
		for _, name := range appFiles {
			b, err := os.ReadFile(filepath.Join(exampleDir(), name))
			if err != nil {
				t.Fatal(err)
			}
			wantData[name] = string(b)
		}
		if diff := cmp.Diff(wantData, data); diff != "" {
			t.Fatalf("data (-files +ConfigMap):\n%s", diff)
		}
	})
}

func TestLiteralBlock(t *testing.T) {
	tests := []struct {
		name, text string
	}{
		{"one final newline", "a = 1\n\nb = {'x': 2}\n"},
		{"no final newline", "a = 1"},
		{"several final newlines", "a = 1\n\n\n"},
		{"template braces stay literal", "f'{{not a template}}' # {{ .namespace }}\n"},
		{"indented lines and trailing spaces", "def f():\n    return 1  \n\tx\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			block, err := literalBlock(tc.text)
			if err != nil {
				t.Fatal(err)
			}
			doc := "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  f: " + block
			objs, err := manifest.Parse("t.yaml", []byte(doc), map[string]any{})
			if err != nil {
				t.Fatalf("%v\n%s", err, doc)
			}
			got, _, _ := unstructured.NestedString(objs[0].Object, "data", "f")
			if got != tc.text {
				t.Fatalf("round trip: got %q, want %q\n%s", got, tc.text, doc)
			}
		})
	}
	for _, bad := range []string{"", "\n", " leading space", "a\r\nb"} {
		if _, err := literalBlock(bad); err == nil {
			t.Errorf("literalBlock(%q) gives no error", bad)
		}
	}
}
