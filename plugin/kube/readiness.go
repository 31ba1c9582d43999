package kube

import (
	"fmt"
	"strconv"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
)

// Readiness statuses besides kstatus's own (Current, InProgress, Failed,
// Terminating).
const (
	// statusNotFound is an object that does not exist.
	statusNotFound = "NotFound"
	// statusPresent is an object still there while we wait for it to go.
	statusPresent = "Present"
)

// readiness says whether obj is ready and, when not, why. It follows the
// kstatus rules (rolled-out workloads, complete Jobs, Established CRDs,
// observedGeneration, Ready and Reconciling/Stalled conditions) and adds
// two of its own: a LoadBalancer Service needs an ingress ip or hostname,
// and Ready/Available conditions must be True and, when they carry an
// observedGeneration, observed at the current generation.
func readiness(obj *unstructured.Unstructured) (ready bool, st, msg string) {
	if obj == nil {
		return false, statusNotFound, "the object does not exist"
	}
	res, err := status.Compute(obj)
	if err != nil {
		return false, status.UnknownStatus.String(), err.Error()
	}
	if res.Status != status.CurrentStatus {
		msg := res.Message
		if msg == "" {
			// kstatus passes on a condition's empty message; say which.
			msg = conditionsPending(obj)
		}
		return false, res.Status.String(), msg
	}
	if msg := loadBalancerPending(obj); msg != "" {
		return false, status.InProgressStatus.String(), msg
	}
	if msg := conditionsPending(obj); msg != "" {
		return false, status.InProgressStatus.String(), msg
	}
	return true, status.CurrentStatus.String(), res.Message
}

// failed reports a status that waiting will not change.
// Readiness judges obj by the rules of Manager.Wait (see readiness):
// whether it is ready, its kstatus status (Current, InProgress, Failed, ...)
// and the reason.
func Readiness(obj *unstructured.Unstructured) (ready bool, status, message string) {
	return readiness(obj)
}

func failed(st string) bool { return st == status.FailedStatus.String() }

func loadBalancerPending(obj *unstructured.Unstructured) string {
	if obj.GetKind() != "Service" || obj.GroupVersionKind().Group != "" {
		return ""
	}
	if t, _, _ := unstructured.NestedString(obj.Object, "spec", "type"); t != "LoadBalancer" {
		return ""
	}
	if lbAddress(obj) == "" {
		return "waiting for the load balancer to report an ingress ip or hostname"
	}
	return ""
}

// lbAddress returns the first ingress ip or hostname of a Service.
func lbAddress(obj *unstructured.Unstructured) string {
	ingress, _, _ := unstructured.NestedSlice(obj.Object, "status", "loadBalancer", "ingress")
	for _, in := range ingress {
		m, _ := in.(map[string]any)
		if ip, _ := m["ip"].(string); ip != "" {
			return ip
		}
		if h, _ := m["hostname"].(string); h != "" {
			return h
		}
	}
	return ""
}

func conditionsPending(obj *unstructured.Unstructured) string {
	conds, _, _ := unstructured.NestedSlice(obj.Object, "status", "conditions")
	gen := obj.GetGeneration()
	for _, c := range conds {
		m, _ := c.(map[string]any)
		t, _ := m["type"].(string)
		if t != "Ready" && t != "Available" {
			continue
		}
		s, _ := m["status"].(string)
		if og, ok := m["observedGeneration"].(int64); ok && gen > 0 && og < gen {
			return fmt.Sprintf("condition %s was observed at generation %d; the object is at generation %d", t, og, gen)
		}
		if s != "True" {
			reason, _ := m["reason"].(string)
			message, _ := m["message"].(string)
			out := fmt.Sprintf("condition %s is %s", t, s)
			if reason != "" {
				out += " (" + reason + ")"
			}
			if message != "" {
				out += ": " + message
			}
			return out
		}
	}
	return ""
}

// statusFields picks the status fields worth showing for obj.
func statusFields(obj *unstructured.Unstructured) map[string]string {
	out := map[string]string{}
	gk := obj.GroupVersionKind().GroupKind()
	switch {
	case gk.Group == "" && gk.Kind == "Service":
		if a := lbAddress(obj); a != "" {
			out["address"] = a
		}
		if ip, _, _ := unstructured.NestedString(obj.Object, "spec", "clusterIP"); ip != "" && ip != "None" {
			out["clusterIP"] = ip
		}
	case gk.Group == "apps" && (gk.Kind == "Deployment" || gk.Kind == "StatefulSet" || gk.Kind == "ReplicaSet"):
		want, found, _ := unstructured.NestedInt64(obj.Object, "spec", "replicas")
		if !found {
			want = 1
		}
		ready, _, _ := unstructured.NestedInt64(obj.Object, "status", "readyReplicas")
		out["readyReplicas"] = fmt.Sprintf("%d/%d", ready, want)
	case gk.Group == "apps" && gk.Kind == "DaemonSet":
		want, _, _ := unstructured.NestedInt64(obj.Object, "status", "desiredNumberScheduled")
		ready, _, _ := unstructured.NestedInt64(obj.Object, "status", "numberReady")
		out["ready"] = fmt.Sprintf("%d/%d", ready, want)
	case gk.Group == "batch" && gk.Kind == "Job":
		n, _, _ := unstructured.NestedInt64(obj.Object, "status", "succeeded")
		out["succeeded"] = strconv.FormatInt(n, 10)
	}
	if _, ok := out["ready"]; !ok {
		conds, _, _ := unstructured.NestedSlice(obj.Object, "status", "conditions")
		for _, c := range conds {
			m, _ := c.(map[string]any)
			if m["type"] == "Ready" {
				if s, ok := m["status"].(string); ok {
					out["ready"] = s
				}
			}
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}
