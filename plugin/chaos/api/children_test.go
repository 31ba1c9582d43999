package api

import (
	"strings"
	"testing"
)

func TestChildKindsMatchThePinnedCRDs(t *testing.T) {
	crds := pinnedCRDs(t)
	for _, k := range ChildKinds() {
		t.Run(k.Name, func(t *testing.T) {
			c, ok := crds[k.Name]
			if !ok {
				t.Fatalf("no CRD for %s", k.Name)
			}
			if c.Spec.Names.Plural != k.Resource {
				t.Errorf("resource %q, CRD plural %q", k.Resource, c.Spec.Names.Plural)
			}
			if _, ok := KindNamed(k.Parent); !ok {
				t.Errorf("parent %s is not a chaos kind", k.Parent)
			}
			for _, path := range k.Entries {
				s := c.Spec.Versions[0].Schema.OpenAPIV3Schema
				for _, f := range path {
					if s = s.Properties[f]; s == nil {
						t.Fatalf("%s: no field %s in the CRD", strings.Join(path, "."), f)
					}
				}
				if s.Type != "array" || s.Items == nil {
					t.Fatalf("%s: not a list in the CRD", strings.Join(path, "."))
				}
				if src := s.Items.Properties[SourceField]; src == nil || src.Type != "string" {
					t.Errorf("%s[]: no string field %q in the CRD", strings.Join(path, "."), SourceField)
				}
			}
		})
	}
	if got := ChildKindsOf("StressChaos"); len(got) != 0 {
		t.Errorf("StressChaos has child kinds %v", got)
	}
	if got := ChildKindsOf("HTTPChaos"); len(got) != 1 || got[0].Name != "PodHttpChaos" {
		t.Errorf("HTTPChaos child kinds %v", got)
	}
}
