package yamllimit_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cloudify-chaos/chaosops/plugin/internal/badyaml"

	"gopkg.in/yaml.v3"

	"github.com/cloudify-chaos/chaosops/plugin/failure"
	"github.com/cloudify-chaos/chaosops/plugin/yamllimit"
)

// bomb is the classic billion laughs: 9 levels of 9 aliases each.
func bomb() string { return badyaml.AliasBomb("") }

func nested(levels int) string {
	return strings.Repeat("[", levels) + strings.Repeat("]", levels)
}

func TestParseLimits(t *testing.T) {
	small := yamllimit.Limits{MaxBytes: 200, MaxNodes: 20, MaxAliasNodes: 10, MaxDepth: 5}
	tests := []struct {
		name    string
		lim     yamllimit.Limits
		data    string
		wantErr string // substring of "file:line: msg"; empty for no error
	}{
		{"a plain mapping passes", yamllimit.Default, "a: 1\nb: [x, y]\n", ""},
		{"merge keys of dsl_definitions pass", yamllimit.Default,
			"dsl_definitions:\n  c: &c {a: 1, b: 2}\nnode: {<<: *c, d: 3}\n", ""},
		{"an empty file passes", yamllimit.Default, "", ""},
		{"an alias bomb is refused at the alias that passes the limit", yamllimit.Default, bomb(),
			"f.yaml:6: alias *e: the aliases up to here expand to more than the limit of 100000 YAML nodes (an alias bomb?)"},
		{"an anchor holding an alias of itself is refused", yamllimit.Default, "a: &a\n  b: *a\n",
			"f.yaml:2: alias *a: anchor &a (line 1) holds an alias of itself"},
		{"nesting past the depth limit is refused", small, "x: " + nested(6) + "\n",
			"f.yaml:1: nested deeper than the limit of 5 levels"},
		{"an alias nesting past the depth limit is refused", small, "a: &a [[[1]]]\nb: [[*a]]\n",
			"f.yaml:2: alias *a nests deeper than the limit of 5 levels"},
		{"a file with too many nodes is refused", small, "[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20]",
			"f.yaml:1: the file holds more than the limit of 20 YAML nodes"},
		{"aliases past the expansion limit are refused", small, "a: &a [1, 2, 3]\nb: [*a, *a, *a]\n",
			"f.yaml:2: alias *a: the aliases up to here expand to more than the limit of 10 YAML nodes"},
		{"a file past the size limit is refused", small, "a: " + strings.Repeat("x", 200),
			"f.yaml: the file is larger than the limit of 200 bytes for a YAML file"},
		{"a syntax error names the line", yamllimit.Default, "a: 1\nb: [\n",
			"f.yaml:2: YAML syntax: did not find expected node content"},
		{"the scanner's own depth limit is a limit", yamllimit.Default, nested(10001),
			"exceeded max depth of 10000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.lim.Parse("f.yaml", []byte(tt.data))
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Parse: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Parse error = %v, want it to contain %q", err, tt.wantErr)
			}
			if !failure.IsInvalid(err) {
				t.Errorf("Parse error %v is not Invalid", err)
			}
			if err := yamllimit.CheckBytes("f.yaml", []byte(tt.data)); tt.lim == yamllimit.Default && !strings.Contains(tt.wantErr, "syntax") && err == nil {
				t.Errorf("CheckBytes passed a file Parse refuses")
			}
		})
	}
}

func TestErrorsNeverQuoteTheFile(t *testing.T) {
	const canary = "s3cr3t-CANARY"
	tests := []struct {
		name string
		data string
		into any
	}{
		{"a string where a mapping is wanted", canary + "\n", &map[string]any{}},
		{"a string where a number is wanted", "port: " + canary + "\n", &struct{ Port int }{}},
		{"a short string where a list is wanted", "l: s3cr3t\n", &struct{ L []string }{}},
		{"a syntax error on a secret line", "token: " + canary + "\n  bad: [\n", &map[string]any{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := yamllimit.Unmarshal("secrets.yaml", []byte(tt.data), tt.into)
			if err == nil {
				t.Fatal("Unmarshal passed")
			}
			if !strings.HasPrefix(err.Error(), "secrets.yaml:") {
				t.Errorf("error %q does not start with the file and line", err)
			}
			if strings.Contains(err.Error(), "s3cr3t") {
				t.Errorf("error %q quotes the file", err)
			}
		})
	}
}

func TestUnmarshalStrict(t *testing.T) {
	var v struct{ A int }
	err := yamllimit.UnmarshalStrict("s.yaml", []byte("a: 1\nbee: 2\n"), &v)
	if err == nil || !strings.Contains(err.Error(), "s.yaml:2: field bee not found") {
		t.Fatalf("UnmarshalStrict error = %v, want s.yaml:2: field bee not found", err)
	}
	if err := yamllimit.UnmarshalStrict("s.yaml", []byte(bomb()), &v); err == nil || !strings.Contains(err.Error(), "alias bomb") {
		t.Fatalf("UnmarshalStrict of a bomb: %v", err)
	}
}

func TestReadFile(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "big.yaml")
	if err := os.WriteFile(big, bytes.Repeat([]byte("a"), 300), 0o600); err != nil {
		t.Fatal(err)
	}
	lim := yamllimit.Limits{MaxBytes: 299}
	if _, err := lim.ReadFile(big); err == nil || err.Error() != big+": the file is larger than the limit of 299 bytes for a YAML file" {
		t.Fatalf("ReadFile of 300 bytes with a limit of 299: %v", err)
	}
	lim.MaxBytes = 300
	if b, err := lim.ReadFile(big); err != nil || len(b) != 300 {
		t.Fatalf("ReadFile of 300 bytes with a limit of 300: %d bytes, %v", len(b), err)
	}
}

// TestRealFilesPass reads the largest YAML files chaosops meets: the
// bundle's blueprints and the pinned CRDs and benchmark manifests.
func TestRealFilesPass(t *testing.T) {
	files, _ := filepath.Glob("../../blueprints/*/*.yaml")
	more, _ := filepath.Glob("../../blueprints/*/*/*.yaml")
	files = append(files, more...)
	// As testenv.SharedDir, without its Kubernetes imports (this package
	// has a fuzz target, and fuzzing instruments every import).
	shared := os.Getenv("CHAOSOPS_SHARED_DIR")
	if shared == "" {
		shared = "../../../shared"
	}
	more, _ = filepath.Glob(filepath.Join(shared, "*", "*.yaml"))
	files = append(files, more...)
	if !slices.ContainsFunc(files, func(f string) bool { return strings.HasSuffix(f, "chaos-mesh-crd.yaml") }) {
		t.Fatalf("no crds/chaos-mesh-crd.yaml in %s (set CHAOSOPS_SHARED_DIR to the folder holding crds/)", shared)
	}
	if len(files) < 10 {
		t.Fatalf("found only %d YAML files: %v", len(files), files)
	}
	for _, f := range files {
		data, err := yamllimit.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		dec := yaml.NewDecoder(bytes.NewReader(data))
		for {
			var doc yaml.Node
			err := dec.Decode(&doc)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			if err := yamllimit.Default.Check(f, &doc); err != nil {
				t.Errorf("a real file is refused: %v", err)
			}
		}
	}
}
