package kube

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func TestSetHash(t *testing.T) {
	obj := func() *unstructured.Unstructured {
		return &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "v1", "kind": "ConfigMap",
			"metadata": map[string]any{"name": "a", "namespace": "demo"},
			"data":     map[string]any{"k": "v"},
		}}
	}
	t.Run("equal objects get equal hashes", func(t *testing.T) {
		if setHash(obj()) != setHash(obj()) {
			t.Error("hashes differ")
		}
	})
	t.Run("a changed field changes the hash", func(t *testing.T) {
		o := obj()
		o.Object["data"] = map[string]any{"k": "w"}
		if setHash(o) == setHash(obj()) {
			t.Error("hashes are equal")
		}
	})
	t.Run("an annotation copied from a live object does not change the hash", func(t *testing.T) {
		o := obj()
		o.SetAnnotations(map[string]string{HashAnnotation: "stale"})
		if got, want := setHash(o), setHash(obj()); got != want {
			t.Errorf("hash %s, want %s", got, want)
		}
		if o.GetAnnotations()[HashAnnotation] == "stale" {
			t.Error("stale annotation kept")
		}
	})
}

func TestUpToDate(t *testing.T) {
	desired := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "Service",
		"metadata": map[string]any{"name": "web", "namespace": "demo", "creationTimestamp": nil},
		"spec": map[string]any{
			"ports":    []any{map[string]any{"port": int64(80)}},
			"selector": map[string]any{"app": "web"},
		},
		"status": map[string]any{},
	}}
	hash := setHash(desired)
	t0 := metav1.NewTime(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	t1 := metav1.NewTime(t0.Add(time.Minute))
	t2 := metav1.NewTime(t0.Add(time.Hour))
	laterEdit := func(l *unstructured.Unstructured) {
		l.SetManagedFields(append(l.GetManagedFields(), metav1.ManagedFieldsEntry{Manager: "kubectl-edit", Operation: metav1.ManagedFieldsOperationUpdate, Time: &t2}))
	}
	live := func(mutate func(l *unstructured.Unstructured)) *unstructured.Unstructured {
		l := &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "v1", "kind": "Service",
			"metadata": map[string]any{"name": "web", "namespace": "demo", "uid": "u1", "resourceVersion": "7",
				"creationTimestamp": "2026-01-01T00:00:00Z",
				"annotations":       map[string]any{HashAnnotation: hash}},
			"spec": map[string]any{
				"ports":     []any{map[string]any{"port": float64(80), "protocol": "TCP", "targetPort": int64(80)}},
				"selector":  map[string]any{"app": "web"},
				"clusterIP": "10.96.0.10",
			},
			"status": map[string]any{"loadBalancer": map[string]any{}},
		}}
		l.SetGeneration(2)
		l.SetManagedFields([]metav1.ManagedFieldsEntry{
			{Manager: "chaosops", Operation: metav1.ManagedFieldsOperationApply, Time: &t1},
			{Manager: "kube-controller-manager", Operation: metav1.ManagedFieldsOperationUpdate, Time: &t0},
			{Manager: "kube-controller-manager", Operation: metav1.ManagedFieldsOperationUpdate, Subresource: "status", Time: &t2},
		})
		if mutate != nil {
			mutate(l)
		}
		return l
	}
	tests := []struct {
		name          string
		live          *unstructured.Unstructured
		prevGen       int64
		genTracksSpec bool
		want          bool
	}{
		{name: "a live object with our hash, our apply and our values is up to date (defaults, status writes and numbers aside)", live: live(nil), want: true},
		{name: "a write by another manager after our last change may hide a change inside an atomic field", live: live(laterEdit), want: false},
		{name: "for kinds that count spec changes, an unchanged generation rules out hidden changes", live: live(laterEdit), prevGen: 2, genTracksSpec: true, want: true},
		{name: "a changed generation is not trusted", live: live(laterEdit), prevGen: 1, genTracksSpec: true, want: false},
		{name: "a generation is not trusted for kinds that do not count spec changes", live: live(laterEdit), prevGen: 2, want: false},
		{name: "a different hash means the source changed since our last apply", live: live(func(l *unstructured.Unstructured) {
			l.SetAnnotations(map[string]string{HashAnnotation: "other"})
		}), want: false},
		{name: "a value changed by someone else is not up to date", live: live(func(l *unstructured.Unstructured) {
			l.Object["spec"].(map[string]any)["selector"] = map[string]any{"app": "db"}
		}), want: false},
		{name: "a field of ours removed by someone else is not up to date", live: live(func(l *unstructured.Unstructured) {
			delete(l.Object["spec"].(map[string]any), "selector")
		}), want: false},
		{name: "a list with an item added by someone else is not up to date", live: live(func(l *unstructured.Unstructured) {
			spec := l.Object["spec"].(map[string]any)
			spec["ports"] = append(spec["ports"].([]any), map[string]any{"port": int64(81)})
		}), want: false},
		{name: "an object our field manager never applied is not up to date", live: live(func(l *unstructured.Unstructured) {
			l.SetManagedFields([]metav1.ManagedFieldsEntry{{Manager: "kubectl", Operation: metav1.ManagedFieldsOperationApply}})
		}), want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := upToDate(desired, tt.live, hash, "chaosops", tt.prevGen, tt.genTracksSpec); got != tt.want {
				t.Errorf("upToDate = %v, want %v", got, tt.want)
			}
		})
	}
}
