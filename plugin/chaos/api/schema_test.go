package api

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/cloudify-chaos/chaosops/plugin/internal/testenv"
)

// openAPISchema is the part of an OpenAPI v3 schema the comparison needs.
type openAPISchema struct {
	Type                 string                    `json:"type"`
	Format               string                    `json:"format"`
	Properties           map[string]*openAPISchema `json:"properties"`
	Required             []string                  `json:"required"`
	Items                *openAPISchema            `json:"items"`
	AdditionalProperties *openAPISchema            `json:"additionalProperties"`
}

type crd struct {
	Spec struct {
		Names struct {
			Kind   string `json:"kind"`
			Plural string `json:"plural"`
		} `json:"names"`
		Versions []struct {
			Name         string          `json:"name"`
			Subresources json.RawMessage `json:"subresources"`
			Schema       struct {
				OpenAPIV3Schema *openAPISchema `json:"openAPIV3Schema"`
			} `json:"schema"`
		} `json:"versions"`
	} `json:"spec"`
}

// pinnedCRDs reads the pinned Chaos Mesh CRDs, keyed by kind, from
// $CHAOSOPS_SHARED_DIR/crds or <repo>/../shared/crds (as scripts/testenv.sh).
func pinnedCRDs(t *testing.T) map[string]crd {
	t.Helper()
	dir := testenv.SharedDir(t)
	path := filepath.Join(dir, "crds", "chaos-mesh-crd.yaml")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("pinned CRDs: %v (set CHAOSOPS_SHARED_DIR to the dir holding crds/)", err)
	}
	out := map[string]crd{}
	for _, doc := range strings.Split(string(data), "\n---") {
		js, err := yaml.YAMLToJSON([]byte(doc))
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		var c crd
		if err := json.Unmarshal(js, &c); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if c.Spec.Names.Kind != "" {
			out[c.Spec.Names.Kind] = c
		}
	}
	return out
}

// jsonField is one JSON property of a Go struct.
type jsonField struct {
	typ       reflect.Type
	omitEmpty bool
}

// jsonFields lists the JSON properties of struct type t, flattening
// embedded structs as encoding/json does.
func jsonFields(t reflect.Type) map[string]jsonField {
	out := map[string]jsonField{}
	for i := range t.NumField() {
		f := t.Field(i)
		name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if f.Anonymous && name == "" {
			for k, v := range jsonFields(f.Type) {
				out[k] = v
			}
			continue
		}
		if name == "" {
			name = f.Name
		}
		omit := slices.Contains(strings.Split(opts, ","), "omitempty") || slices.Contains(strings.Split(opts, ","), "omitzero")
		out[name] = jsonField{typ: f.Type, omitEmpty: omit}
	}
	return out
}

var (
	timeType = reflect.TypeFor[metav1.Time]()
	rawType  = reflect.TypeFor[json.RawMessage]()
)

// compare reports every difference between Go type t and schema s at path.
func compare(t *testing.T, path string, typ reflect.Type, s *openAPISchema) {
	t.Helper()
	for typ.Kind() == reflect.Pointer {
		typ = typ.Elem()
	}
	switch {
	case typ == rawType:
		return // kept verbatim
	case typ == timeType:
		if s.Type != "string" || s.Format != "date-time" {
			t.Errorf("%s: Go metav1.Time, schema %s/%s", path, s.Type, s.Format)
		}
		return
	}
	kindOK := map[string][]reflect.Kind{
		"string":  {reflect.String},
		"boolean": {reflect.Bool},
		"integer": {reflect.Int, reflect.Int32, reflect.Int64, reflect.Uint16, reflect.Uint32, reflect.Uint64},
		"array":   {reflect.Slice},
		"object":  {reflect.Struct, reflect.Map},
	}
	if s.Type == "string" && s.Format == "byte" {
		kindOK["string"] = []reflect.Kind{reflect.Slice}
	}
	if !slices.Contains(kindOK[s.Type], typ.Kind()) {
		t.Errorf("%s: Go %s does not fit schema type %s", path, typ, s.Type)
		return
	}
	switch {
	case s.Type == "array":
		compare(t, path+"[]", typ.Elem(), s.Items)
	case s.Type == "object" && typ.Kind() == reflect.Map:
		if s.AdditionalProperties == nil {
			t.Errorf("%s: Go map, schema has fixed properties", path)
			return
		}
		compare(t, path+"{}", typ.Elem(), s.AdditionalProperties)
	case s.Type == "object":
		fields := jsonFields(typ)
		for name, prop := range s.Properties {
			f, ok := fields[name]
			if !ok {
				t.Errorf("%s.%s: in the CRD, missing from Go %s", path, name, typ)
				continue
			}
			required := slices.Contains(s.Required, name)
			if required && f.omitEmpty {
				t.Errorf("%s.%s: required by the CRD but omitempty in Go", path, name)
			}
			if !required && !f.omitEmpty && f.typ.Kind() != reflect.Struct {
				t.Errorf("%s.%s: optional in the CRD but always sent by Go (add omitempty)", path, name)
			}
			compare(t, path+"."+name, f.typ, prop)
		}
		for name, f := range fields {
			// A raw field (status.instances) exists in some kinds only
			// and is never sent empty.
			if _, ok := s.Properties[name]; !ok && f.typ != rawType {
				t.Errorf("%s.%s: in Go %s, not in the CRD (the server would drop it)", path, name, typ)
			}
		}
	}
}

func TestStructsMatchThePinnedCRDs(t *testing.T) {
	crds := pinnedCRDs(t)
	for _, k := range Kinds() {
		t.Run(k.Name, func(t *testing.T) {
			c, ok := crds[k.Name]
			if !ok {
				t.Fatalf("no CRD for %s", k.Name)
			}
			if c.Spec.Names.Plural != k.Resource {
				t.Errorf("resource %q, CRD plural %q", k.Resource, c.Spec.Names.Plural)
			}
			if len(c.Spec.Versions) != 1 || c.Spec.Versions[0].Name != Version {
				t.Fatalf("CRD versions are not just %s", Version)
			}
			v := c.Spec.Versions[0]
			if sub := strings.TrimSpace(string(v.Subresources)); sub != "" && sub != "{}" && sub != "null" {
				t.Errorf("CRD has subresources %s; the package doc says status is written with the object", sub)
			}
			root := v.Schema.OpenAPIV3Schema
			compare(t, "spec", reflect.TypeOf(k.NewSpec()), root.Properties["spec"])
			compare(t, "status", reflect.TypeFor[ChaosStatus](), root.Properties["status"])
		})
	}
}
