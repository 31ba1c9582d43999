package chaos

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"strings"

	"github.com/cloudify-chaos/chaosops/plugin/chaos/api"
)

// NewRunID returns a random run id for runs outside Cloudify.
func NewRunID() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// RunIDFor derives a short run id from a Cloudify execution and node
// instance, so a retried operation finds the object it already created.
func RunIDFor(execution, instance string) string {
	sum := sha256.Sum256([]byte(execution + "/" + instance))
	return hex.EncodeToString(sum[:4])
}

// objectName is <kind>-<run id>, e.g. httpchaos-3f9c1a2b.
// ObjectName is the name Run gives obj in the run runID, so callers can
// name files after the object before it exists.
func ObjectName(obj *api.Object, runID string) string {
	if obj == nil || obj.Spec == nil {
		return labelValue(runID)
	}
	k, ok := api.KindNamed(obj.Spec.Kind())
	if !ok {
		return labelValue(runID)
	}
	return objectName(k, runID)
}

func objectName(k api.Kind, runID string) string {
	return strings.ToLower(k.Name) + "-" + labelValue(runID)
}

var labelUnsafe = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// labelValue makes s a valid label value (≤ 63 characters, alphanumeric
// at both ends).
func labelValue(s string) string {
	s = labelUnsafe.ReplaceAllString(s, "-")
	if len(s) > 63 {
		s = s[:63]
	}
	return strings.Trim(s, "-._")
}
