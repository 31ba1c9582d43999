package controllerstandin

import (
	"reflect"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// relevantUpdate reports whether an update should trigger a reconcile. As
// Chaos Mesh's StatusRecordEventsChangePredicate, a change that only adds
// record events (or bumps resourceVersion and generation) does not; the
// stand-in also ignores managedFields, whose timestamps would otherwise
// defeat that filter.
func relevantUpdate(old, updated *unstructured.Unstructured) bool {
	return !reflect.DeepEqual(comparable(old), comparable(updated))
}

func comparable(u *unstructured.Unstructured) map[string]any {
	c := u.DeepCopy()
	c.SetResourceVersion("")
	c.SetGeneration(0)
	c.SetManagedFields(nil)
	records, found, err := unstructured.NestedSlice(c.Object, "status", "experiment", "containerRecords")
	if err == nil && found {
		for _, r := range records {
			if m, ok := r.(map[string]any); ok {
				delete(m, "events")
			}
		}
		_ = unstructured.SetNestedSlice(c.Object, records, "status", "experiment", "containerRecords")
	}
	return c.Object
}
