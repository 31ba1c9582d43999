package api

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"sigs.k8s.io/yaml"
)

// fixture reads testdata/name as the generic JSON value it holds.
func fixture(t *testing.T, name string) ([]byte, map[string]any) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	js, err := yaml.YAMLToJSON(data)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	var m map[string]any
	if err := json.Unmarshal(js, &m); err != nil {
		t.Fatal(err)
	}
	return data, m
}

func fixtureFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	for i, f := range files {
		files[i] = filepath.Base(f)
	}
	return files
}

func generic(t *testing.T, v any) map[string]any {
	t.Helper()
	js, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(js, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestRoundTrip(t *testing.T) {
	for _, name := range fixtureFiles(t) {
		t.Run(name+" survives decode and encode unchanged", func(t *testing.T) {
			data, want := fixture(t, name)
			obj, err := DecodeStrict(data)
			if err != nil {
				t.Fatalf("DecodeStrict: %v", err)
			}
			if diff := cmp.Diff(want, generic(t, obj)); diff != "" {
				t.Errorf("JSON after decode and encode (-fixture +got):\n%s", diff)
			}

			u, err := ToUnstructured(obj)
			if err != nil {
				t.Fatalf("ToUnstructured: %v", err)
			}
			if u.GetKind() != obj.Kind || u.GetName() != obj.Name {
				t.Errorf("unstructured is %s %s, want %s %s", u.GetKind(), u.GetName(), obj.Kind, obj.Name)
			}
			back, err := FromUnstructured(u)
			if err != nil {
				t.Fatalf("FromUnstructured: %v", err)
			}
			if diff := cmp.Diff(want, generic(t, back)); diff != "" {
				t.Errorf("JSON after the unstructured round trip (-fixture +got):\n%s", diff)
			}
		})
	}
}

// paths lists the property paths of an OpenAPI schema, descending into
// array items and map values as "[]" and "{}".
func paths(prefix string, s *openAPISchema, out map[string]bool) {
	switch {
	case s.Items != nil:
		paths(prefix+"[]", s.Items, out)
	case s.AdditionalProperties != nil:
		paths(prefix+"{}", s.AdditionalProperties, out)
	}
	for name, p := range s.Properties {
		out[prefix+"."+name] = true
		paths(prefix+"."+name, p, out)
	}
}

// valuePaths lists the paths set in a JSON value, with the schema telling
// objects with fixed properties from maps.
func valuePaths(prefix string, v any, s *openAPISchema, out map[string]bool) {
	switch v := v.(type) {
	case []any:
		for _, item := range v {
			if s.Items != nil {
				valuePaths(prefix+"[]", item, s.Items, out)
			}
		}
	case map[string]any:
		for k, item := range v {
			if s.AdditionalProperties != nil {
				valuePaths(prefix+"{}", item, s.AdditionalProperties, out)
				continue
			}
			if p, ok := s.Properties[k]; ok {
				out[prefix+"."+k] = true
				valuePaths(prefix+"."+k, item, p, out)
			}
		}
	}
}

// sharedSelector matches the paths of PodSelectorSpec and Value.
var sharedSelector = regexp.MustCompile(`^spec(\.target)?\.(selector\.|value$)`)

func TestFixturesSetEveryFieldOfTheCRDSpec(t *testing.T) {
	crds := pinnedCRDs(t)
	for _, k := range Kinds() {
		t.Run(k.Name, func(t *testing.T) {
			spec := crds[k.Name].Spec.Versions[0].Schema.OpenAPIV3Schema.Properties["spec"]
			_, obj := fixture(t, strings.ToLower(k.Name)+".yaml")
			all, set := map[string]bool{}, map[string]bool{}
			paths("spec", spec, all)
			valuePaths("spec", obj["spec"], spec, set)
			var missing []string
			for p := range all {
				// The shared selector type is covered by the HTTPChaos fixture.
				if k.Name != "HTTPChaos" && sharedSelector.MatchString(p) {
					continue
				}
				if !set[p] {
					missing = append(missing, p)
				}
			}
			sort.Strings(missing)
			if len(missing) > 0 {
				t.Errorf("testdata/%s.yaml does not set:\n  %s", strings.ToLower(k.Name), strings.Join(missing, "\n  "))
			}
		})
	}
}

func TestDecode(t *testing.T) {
	for _, tc := range []struct {
		name, yaml, wantErr string
	}{
		{"a misspelt spec field is rejected", "kind: HTTPChaos\nspec: {mode: all, tagret: Request}", `unknown field "tagret"`},
		{"a misspelt metadata field is rejected", "kind: PodChaos\nmetadata: {nmae: x}", `unknown field "nmae"`},
		{"an unsupported kind is rejected with the choices", "kind: AWSChaos\nspec: {}", `kind "AWSChaos" is not a chaos kind this plugin supports (one of HTTPChaos, PodChaos`},
		{"an object without a status decodes", "kind: DNSChaos\nspec: {action: error}", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := DecodeStrict([]byte(tc.yaml))
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("error %v, want one containing %q", err, tc.wantErr)
			}
		})
	}

	t.Run("the lenient decoder ignores unknown fields", func(t *testing.T) {
		var o Object
		if err := json.Unmarshal([]byte(`{"kind":"TimeChaos","spec":{"timeOffset":"1m","future":1}}`), &o); err != nil {
			t.Fatal(err)
		}
		if s, ok := SpecAs[*TimeChaosSpec](&o); !ok || s.TimeOffset != "1m" {
			t.Errorf("spec = %#v", o.Spec)
		}
	})
}

func TestNewObjectSendsNoStatus(t *testing.T) {
	o := NewObject("demo", "abort", &HTTPChaosSpec{Target: HTTPRequest, Port: 80})
	m := generic(t, o)
	if _, ok := m["status"]; ok {
		t.Errorf("a new object carries a status: %v", m["status"])
	}
	if m["apiVersion"] != "chaos-mesh.org/v1alpha1" || m["kind"] != "HTTPChaos" {
		t.Errorf("type meta = %v %v", m["apiVersion"], m["kind"])
	}
}

func TestCondition(t *testing.T) {
	data, _ := fixture(t, "httpchaos-status.yaml")
	obj, err := DecodeStrict(data)
	if err != nil {
		t.Fatal(err)
	}
	u, err := ToUnstructured(obj)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		typ    ConditionType
		want   string
		wantOK bool
	}{
		{ConditionSelected, "True", true},
		{ConditionAllInjected, "True", true},
		{ConditionAllRecovered, "False", true},
		{"Ready", "", false},
	} {
		t.Run(string(tc.typ), func(t *testing.T) {
			got, ok := Condition(obj, tc.typ)
			if string(got) != tc.want || ok != tc.wantOK {
				t.Errorf("Condition = %q, %v; want %q, %v", got, ok, tc.want, tc.wantOK)
			}
			got, ok = ConditionOf(u, tc.typ)
			if string(got) != tc.want || ok != tc.wantOK {
				t.Errorf("ConditionOf = %q, %v; want %q, %v", got, ok, tc.want, tc.wantOK)
			}
		})
	}
}
