package controllerstandin

import (
	"testing"

	"github.com/cloudify-chaos/chaosops/plugin/chaos/api"
	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func testPod(name, phase string, labels, annotations map[string]string, containers ...string) corev1.Pod {
	p := corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: "demo", Name: name, Labels: labels, Annotations: annotations},
		Spec:       corev1.PodSpec{NodeName: "node-a"},
		Status:     corev1.PodStatus{Phase: corev1.PodPhase(phase)},
	}
	for _, c := range containers {
		p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: c})
	}
	return p
}

func TestPodFilter(t *testing.T) {
	web := testPod("web-0", "Running", map[string]string{"app": "web", "tier": "front"}, map[string]string{"chaos": "ok"})
	pending := testPod("web-1", "Pending", map[string]string{"app": "web"}, nil)
	for _, tc := range []struct {
		name  string
		spec  api.PodSelectorSpec
		nodes []string
		pod   corev1.Pod
		want  bool
	}{
		{"an empty selector matches", api.PodSelectorSpec{}, nil, web, true},
		{"labels must all match", api.PodSelectorSpec{LabelSelectors: map[string]string{"app": "web", "tier": "back"}}, nil, web, false},
		{"expressions are label requirements", api.PodSelectorSpec{ExpressionSelectors: []metav1.LabelSelectorRequirement{
			{Key: "tier", Operator: metav1.LabelSelectorOpIn, Values: []string{"front", "back"}}}}, nil, web, true},
		{"annotations must match", api.PodSelectorSpec{AnnotationSelectors: map[string]string{"chaos": "no"}}, nil, web, false},
		{"fields select on pod fields", api.PodSelectorSpec{FieldSelectors: map[string]string{"metadata.name": "web-0", "spec.nodeName": "node-a"}}, nil, web, true},
		{"a phase selector includes phases", api.PodSelectorSpec{PodPhaseSelectors: []string{"Running"}}, nil, pending, false},
		{"a negated phase excludes a phase", api.PodSelectorSpec{PodPhaseSelectors: []string{"!Pending"}}, nil, web, true},
		{"without phase selectors a pending pod matches", api.PodSelectorSpec{LabelSelectors: map[string]string{"app": "web"}}, nil, pending, true},
		{"nodes restrict to the resolved nodes", api.PodSelectorSpec{Nodes: []string{"node-b"}}, []string{"node-b"}, web, false},
		{"node selectors allow pods on the matched nodes", api.PodSelectorSpec{NodeSelectors: map[string]string{"zone": "a"}}, []string{"node-a"}, web, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := newPodFilter(tc.spec, tc.nodes)
			if err != nil {
				t.Fatal(err)
			}
			if got := f.match(&tc.pod); got != tc.want {
				t.Errorf("match = %v, want %v", got, tc.want)
			}
		})
	}

	t.Run("an unsupported phase operator is an error", func(t *testing.T) {
		if _, err := newPodFilter(api.PodSelectorSpec{PodPhaseSelectors: []string{"phase=Running"}}, nil); err == nil {
			t.Error("no error")
		}
	})
}

func TestRecordIDs(t *testing.T) {
	pods := []corev1.Pod{
		testPod("a", "Running", nil, nil, "web", "sidecar"),
		testPod("b", "Running", nil, nil, "web"),
	}
	for _, tc := range []struct {
		name   string
		target api.Target
		want   []string
	}{
		{"pod targets are namespace/pod", api.Target{}, []string{"demo/a", "demo/b"}},
		{"container targets default to the first container", api.Target{PerContainer: true}, []string{"demo/a/web", "demo/b/web"}},
		{"named containers are taken where they exist", api.Target{PerContainer: true, ContainerNames: []string{"sidecar"}}, []string{"demo/a/sidecar"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, recordIDs(tc.target, pods)); diff != "" {
				t.Errorf("ids (-want +got):\n%s", diff)
			}
		})
	}
}
