package kube

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// HashAnnotation holds, on every object Apply sends, a SHA-256 of the object
// as given in the source (namespace defaulted). Apply skips the request
// when the live object still carries the hash of what it would send, our
// field manager applied it, every field we set still has our value, and
// nothing hints at a change a value comparison could miss (another
// manager's later write, or a changed generation). With an inventory that
// recorded each object's resourceVersion and hash, an unchanged re-apply
// costs one LIST per kind and namespace (see unchangedByList) instead of a
// server-side apply each; objects that moved are read one by one.
const HashAnnotation = "chaosops.io/apply-hash"

// setHash computes the object's hash without the annotation, sets the
// annotation and returns the hash.
func setHash(obj *unstructured.Unstructured) string {
	ann := obj.GetAnnotations()
	if _, ok := ann[HashAnnotation]; ok {
		delete(ann, HashAnnotation)
		if len(ann) == 0 {
			ann = nil
		}
		obj.SetAnnotations(ann)
	}
	// encoding/json sorts map keys, so equal objects give equal bytes.
	data, err := json.Marshal(obj.Object)
	if err != nil {
		return ""
	}
	sum := sha256.Sum256(data)
	h := hex.EncodeToString(sum[:])
	if ann == nil {
		ann = map[string]string{}
	}
	ann[HashAnnotation] = h
	obj.SetAnnotations(ann)
	return h
}

// upToDate reports whether live already holds desired, so that applying it
// would change nothing:
//   - live carries the hash: nothing was added to or removed from the
//     source since our last apply;
//   - manager applied it, and nobody changed it since in a way a value
//     comparison could miss (a key added inside a structure the API server
//     treats as atomic, such as a CRD's schema): either its generation is
//     still prevGen, for kinds whose generation counts every spec change
//     (genTracksSpec), or no other manager wrote to it (outside the status
//     subresource) after our last change;
//   - every field of desired has the same value in live. Fields only live
//     has (defaults, other managers' fields) do not matter; status is
//     ignored like server-side apply ignores it.
func upToDate(desired, live *unstructured.Unstructured, hash, manager string, prevGen int64, genTracksSpec bool) bool {
	if hash == "" || live.GetAnnotations()[HashAnnotation] != hash {
		return false
	}
	var ours *metav1.Time
	for _, mf := range live.GetManagedFields() {
		if mf.Manager == manager && mf.Operation == metav1.ManagedFieldsOperationApply && mf.Subresource == "" {
			ours = mf.Time
		}
	}
	if ours == nil {
		return false
	}
	if !(genTracksSpec && prevGen > 0 && live.GetGeneration() == prevGen) {
		for _, mf := range live.GetManagedFields() {
			if mf.Manager == manager && mf.Operation == metav1.ManagedFieldsOperationApply || mf.Subresource != "" {
				continue
			}
			// Times have a resolution of one second: a tie counts as later.
			if mf.Time == nil || !mf.Time.Before(ours) {
				return false
			}
		}
	}
	for k, v := range desired.Object {
		if k == "status" {
			continue
		}
		if !contains(live.Object[k], v) {
			return false
		}
	}
	return true
}

// contains reports whether have holds everything in want: maps may have
// extra keys, lists must have the same length and contain want's items in
// order, null in want means "not set by us" and matches anything.
func contains(have, want any) bool {
	switch w := want.(type) {
	case nil:
		return true
	case map[string]any:
		h, ok := have.(map[string]any)
		if !ok {
			return len(w) == 0 && have == nil
		}
		for k, v := range w {
			if !contains(h[k], v) {
				return false
			}
		}
		return true
	case []any:
		h, ok := have.([]any)
		if !ok {
			return len(w) == 0 && have == nil
		}
		if len(h) != len(w) {
			return false
		}
		for i := range w {
			if !contains(h[i], w[i]) {
				return false
			}
		}
		return true
	case int64, float64, int, int32:
		hf, ok1 := number(have)
		wf, ok2 := number(want)
		return ok1 && ok2 && hf == wf
	}
	return have == want
}

func number(v any) (float64, bool) {
	switch n := v.(type) {
	case int64:
		return float64(n), true
	case int:
		return float64(n), true
	case int32:
		return float64(n), true
	case float64:
		return n, true
	}
	return 0, false
}
