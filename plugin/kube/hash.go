package kube

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// HashAnnotation holds, on every object Apply sends, a SHA-256 of the object
// as given in the source (namespace defaulted). When the live object still
// carries the hash of what we would send, our field manager applied it, and
// every field we set still has our value, Apply skips the request: large
// CRDs then cost one GET instead of a full server-side apply.
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
// would change nothing: live carries the hash (nothing was added to or
// removed from the source since our last apply), manager applied it, and
// every field of desired has the same value in live (nobody changed our
// fields since). Fields only live has (defaults, other managers' fields)
// do not matter; status is ignored like server-side apply ignores it.
func upToDate(desired, live *unstructured.Unstructured, hash, manager string) bool {
	if hash == "" || live.GetAnnotations()[HashAnnotation] != hash {
		return false
	}
	applied := false
	for _, mf := range live.GetManagedFields() {
		if mf.Manager == manager && mf.Operation == "Apply" && mf.Subresource == "" {
			applied = true
		}
	}
	if !applied {
		return false
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
