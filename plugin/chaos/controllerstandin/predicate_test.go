package controllerstandin

import (
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func TestRelevantUpdate(t *testing.T) {
	base := func() *unstructured.Unstructured {
		return &unstructured.Unstructured{Object: map[string]any{
			"kind":     "HTTPChaos",
			"metadata": map[string]any{"name": "x", "resourceVersion": "1", "generation": int64(1)},
			"status": map[string]any{"experiment": map[string]any{"containerRecords": []any{
				map[string]any{"id": "demo/p", "phase": "Injected", "events": []any{map[string]any{"type": "Succeeded"}}},
			}}},
		}}
	}
	edit := func(f func(u *unstructured.Unstructured)) *unstructured.Unstructured {
		u := base()
		f(u)
		return u
	}
	for _, tc := range []struct {
		name    string
		updated *unstructured.Unstructured
		want    bool
	}{
		{"a new resourceVersion and generation alone are ignored", edit(func(u *unstructured.Unstructured) {
			u.SetResourceVersion("2")
			u.SetGeneration(2)
		}), false},
		{"new record events alone are ignored", edit(func(u *unstructured.Unstructured) {
			recs, _, _ := unstructured.NestedSlice(u.Object, "status", "experiment", "containerRecords")
			recs[0].(map[string]any)["events"] = []any{map[string]any{"type": "Failed"}}
			_ = unstructured.SetNestedSlice(u.Object, recs, "status", "experiment", "containerRecords")
		}), false},
		{"a phase change counts", edit(func(u *unstructured.Unstructured) {
			recs, _, _ := unstructured.NestedSlice(u.Object, "status", "experiment", "containerRecords")
			recs[0].(map[string]any)["phase"] = "Not Injected"
			_ = unstructured.SetNestedSlice(u.Object, recs, "status", "experiment", "containerRecords")
		}), true},
		{"an annotation counts", edit(func(u *unstructured.Unstructured) {
			u.SetAnnotations(map[string]string{"experiment.chaos-mesh.org/pause": "true"})
		}), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			old := base()
			if got := relevantUpdate(old, tc.updated); got != tc.want {
				t.Errorf("relevantUpdate = %v, want %v", got, tc.want)
			}
			if _, found, _ := unstructured.NestedSlice(old.Object, "status", "experiment", "containerRecords"); !found {
				t.Error("relevantUpdate modified its input")
			}
		})
	}
}
