package kube

// Ref formats the reference to an object used at the start of every log
// line and error about it: "Kind/namespace/name", or "Kind/name" for a
// cluster-scoped object (empty namespace).
func Ref(kind, namespace, name string) string {
	if namespace == "" {
		return kind + "/" + name
	}
	return kind + "/" + namespace + "/" + name
}

// object is what Ref needs from an object; unstructured.Unstructured and
// manifest.Object have it.
type object interface {
	GetKind() string
	GetNamespace() string
	GetName() string
}

// refOf is Ref for an object.
func refOf(o object) string { return Ref(o.GetKind(), o.GetNamespace(), o.GetName()) }
