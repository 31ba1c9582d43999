package controllerstandin

import (
	"fmt"
	"strings"

	"github.com/cloudify-chaos/chaosops/plugin/chaos/api"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
)

// podFilter is the part of a PodSelectorSpec that is checked pod by pod, as
// Chaos Mesh's selector chain: labels and expressions, annotations, pod
// fields, phases and nodes. Namespaces and Pods decide what is listed.
type podFilter struct {
	labels      labels.Selector
	annotations labels.Selector
	fields      fields.Selector
	phaseIn     []labels.Requirement
	phaseOut    []labels.Requirement
	// nodes are the allowed node names; nil allows any node.
	nodes map[string]bool
}

// newPodFilter parses s. nodes are the names of the nodes s.Nodes and
// s.NodeSelectors resolve to (ignored when both are empty).
func newPodFilter(s api.PodSelectorSpec, nodes []string) (*podFilter, error) {
	ls, err := metav1.LabelSelectorAsSelector(&metav1.LabelSelector{
		MatchLabels:      s.LabelSelectors,
		MatchExpressions: s.ExpressionSelectors,
	})
	if err != nil {
		return nil, fmt.Errorf("labelSelectors/expressionSelectors: %w", err)
	}
	f := &podFilter{
		labels:      ls,
		annotations: labels.SelectorFromSet(s.AnnotationSelectors),
		fields:      fields.SelectorFromSet(s.FieldSelectors),
	}
	phases, err := labels.Parse(strings.Join(s.PodPhaseSelectors, ","))
	if err != nil {
		return nil, fmt.Errorf("podPhaseSelectors: %w", err)
	}
	reqs, _ := phases.Requirements()
	for _, r := range reqs {
		switch r.Operator() {
		case selection.Exists:
			f.phaseIn = append(f.phaseIn, r)
		case selection.DoesNotExist:
			f.phaseOut = append(f.phaseOut, r)
		default:
			return nil, fmt.Errorf("podPhaseSelectors: unsupported operator: %s", r.Operator())
		}
	}
	if len(s.Nodes) > 0 || len(s.NodeSelectors) > 0 {
		f.nodes = map[string]bool{}
		for _, n := range nodes {
			f.nodes[n] = true
		}
	}
	return f, nil
}

// match reports whether pod passes every criterion.
func (f *podFilter) match(pod *corev1.Pod) bool {
	if !f.labels.Matches(labels.Set(pod.Labels)) ||
		!f.annotations.Matches(labels.Set(pod.Annotations)) ||
		!f.fields.Matches(podFields(pod)) {
		return false
	}
	phase := labels.Set{string(pod.Status.Phase): ""}
	included := len(f.phaseIn) == 0
	for _, r := range f.phaseIn {
		if r.Matches(phase) {
			included = true
		}
	}
	for _, r := range f.phaseOut {
		if !r.Matches(phase) {
			return false
		}
	}
	if !included {
		return false
	}
	return f.nodes == nil || f.nodes[pod.Spec.NodeName]
}

// podFields are the selectable fields of a pod, as the API server's (and
// Chaos Mesh's) pod field selectors know them.
func podFields(pod *corev1.Pod) fields.Set {
	ip := ""
	if len(pod.Status.PodIPs) > 0 {
		ip = pod.Status.PodIPs[0].IP
	}
	return fields.Set{
		"metadata.name":            pod.Name,
		"metadata.namespace":       pod.Namespace,
		"spec.nodeName":            pod.Spec.NodeName,
		"spec.restartPolicy":       string(pod.Spec.RestartPolicy),
		"spec.schedulerName":       pod.Spec.SchedulerName,
		"spec.serviceAccountName":  pod.Spec.ServiceAccountName,
		"status.phase":             string(pod.Status.Phase),
		"status.podIP":             ip,
		"status.nominatedNodeName": pod.Status.NominatedNodeName,
	}
}

// recordIDs turns the chosen pods into record ids: "namespace/pod", or
// "namespace/pod/container" for per-container targets (the first container
// when t names none).
func recordIDs(t api.Target, pods []corev1.Pod) []string {
	var ids []string
	for _, p := range pods {
		prefix := p.Namespace + "/" + p.Name
		if !t.PerContainer {
			ids = append(ids, prefix)
			continue
		}
		if len(t.ContainerNames) == 0 {
			if len(p.Spec.Containers) > 0 {
				ids = append(ids, prefix+"/"+p.Spec.Containers[0].Name)
			}
			continue
		}
		for _, c := range p.Spec.Containers {
			for _, want := range t.ContainerNames {
				if c.Name == want {
					ids = append(ids, prefix+"/"+c.Name)
				}
			}
		}
	}
	return ids
}
