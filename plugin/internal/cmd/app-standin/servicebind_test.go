package main

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/cloudify-chaos/chaosops/plugin/internal/standin/chaosdaemon"
)

func TestAssignBindsEachPodToAFreeProxy(t *testing.T) {
	pod := func(name, proxy string, deleting bool) corev1.Pod {
		p := corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name}}
		if proxy != "" {
			p.Annotations = map[string]string{chaosdaemon.FaultProxyAnnotation: proxy}
		}
		if deleting {
			p.DeletionTimestamp = &metav1.Time{}
		}
		return p
	}
	proxies := []string{"a", "b", "c"}
	tests := []struct {
		name string
		pods []corev1.Pod
		want []binding
	}{
		{"new pods in name order", []corev1.Pod{pod("p2", "", false), pod("p1", "", false)}, []binding{{"p1", "a"}, {"p2", "b"}}},
		{"bound pods keep theirs", []corev1.Pod{pod("p1", "a", false), pod("p2", "", false)}, []binding{{"p2", "b"}}},
		{"a deleted pod frees its proxy", []corev1.Pod{pod("old", "a", true), pod("new", "", false)}, []binding{{"new", "a"}}},
		{"more pods than proxies", []corev1.Pod{pod("p1", "", false), pod("p2", "", false), pod("p3", "", false), pod("p4", "", false)}, []binding{{"p1", "a"}, {"p2", "b"}, {"p3", "c"}}},
		{"nothing to do", []corev1.Pod{pod("p1", "a", false)}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := assign(tc.pods, proxies)
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(binding{})); diff != "" {
				t.Errorf("assign (-want +got):\n%s", diff)
			}
		})
	}
}
