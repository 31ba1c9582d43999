package kube

import (
	"testing"

	"k8s.io/apimachinery/pkg/runtime/schema"
)

func TestTierOf(t *testing.T) {
	tests := []struct {
		name string
		gk   schema.GroupKind
		want int
	}{
		{"namespaces come first", schema.GroupKind{Kind: "Namespace"}, tierDefinitions},
		{"custom resource definitions come first", crdGK, tierDefinitions},
		{"priority classes come first so pods can refer to them", schema.GroupKind{Group: "scheduling.k8s.io", Kind: "PriorityClass"}, tierDefinitions},
		{"deployments come with the other objects", schema.GroupKind{Group: "apps", Kind: "Deployment"}, tierObjects},
		{"custom resources come with the other objects", schema.GroupKind{Group: "chaos-mesh.org", Kind: "HTTPChaos"}, tierObjects},
		{"a kind named Namespace in another group is an ordinary object", schema.GroupKind{Group: "example.com", Kind: "Namespace"}, tierObjects},
		{"webhook configurations come last", schema.GroupKind{Group: "admissionregistration.k8s.io", Kind: "ValidatingWebhookConfiguration"}, tierWebhooks},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tierOf(tt.gk); got != tt.want {
				t.Errorf("tierOf(%v) = %d, want %d", tt.gk, got, tt.want)
			}
		})
	}
}
