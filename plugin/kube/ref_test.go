package kube

import "testing"

func TestRef(t *testing.T) {
	tests := []struct {
		name                  string
		kind, namespace, objn string
		want                  string
	}{
		{"a namespaced object reads Kind/namespace/name", "HTTPChaos", "demo", "abort-3f9c", "HTTPChaos/demo/abort-3f9c"},
		{"a cluster-scoped object reads Kind/name", "CustomResourceDefinition", "", "httpchaos.chaos-mesh.org", "CustomResourceDefinition/httpchaos.chaos-mesh.org"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Ref(tt.kind, tt.namespace, tt.objn); got != tt.want {
				t.Errorf("Ref = %q, want %q", got, tt.want)
			}
		})
	}
}
