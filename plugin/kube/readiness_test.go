package kube

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

func mustObject(t *testing.T, text string) *unstructured.Unstructured {
	t.Helper()
	var m map[string]any
	if err := yaml.Unmarshal([]byte(text), &m); err != nil {
		t.Fatal(err)
	}
	// sigs.k8s.io/yaml gives float64 numbers; unstructured uses int64.
	return &unstructured.Unstructured{Object: intify(m).(map[string]any)}
}

func intify(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, x := range t {
			t[k] = intify(x)
		}
	case []any:
		for i, x := range t {
			t[i] = intify(x)
		}
	case float64:
		if t == float64(int64(t)) {
			return int64(t)
		}
	}
	return v
}

func TestReadiness(t *testing.T) {
	tests := []struct {
		name   string
		obj    string
		ready  bool
		status string
	}{{
		name: "a rolled-out Deployment is ready",
		obj: `apiVersion: apps/v1
kind: Deployment
metadata: {name: web, generation: 2}
spec: {replicas: 2}
status: {observedGeneration: 2, replicas: 2, updatedReplicas: 2, readyReplicas: 2, availableReplicas: 2,
  conditions: [{type: Available, status: "True"}, {type: Progressing, status: "True", reason: NewReplicaSetAvailable}]}`,
		ready: true, status: "Current",
	}, {
		name: "a Deployment still rolling out is in progress",
		obj: `apiVersion: apps/v1
kind: Deployment
metadata: {name: web, generation: 2}
spec: {replicas: 2}
status: {observedGeneration: 2, replicas: 2, updatedReplicas: 1, readyReplicas: 1, availableReplicas: 1}`,
		status: "InProgress",
	}, {
		name: "a Deployment whose new generation is not observed yet is in progress",
		obj: `apiVersion: apps/v1
kind: Deployment
metadata: {name: web, generation: 3}
spec: {replicas: 1}
status: {observedGeneration: 2, replicas: 1, updatedReplicas: 1, readyReplicas: 1, availableReplicas: 1}`,
		status: "InProgress",
	}, {
		name: "a complete Job is ready",
		obj: `apiVersion: batch/v1
kind: Job
metadata: {name: once}
spec: {completions: 1}
status: {succeeded: 1, conditions: [{type: Complete, status: "True"}]}`,
		ready: true, status: "Current",
	}, {
		name: "a failed Job fails for good",
		obj: `apiVersion: batch/v1
kind: Job
metadata: {name: once}
spec: {completions: 1}
status: {failed: 6, conditions: [{type: Failed, status: "True", reason: BackoffLimitExceeded, message: "Job has reached the specified backoff limit"}]}`,
		status: "Failed",
	}, {
		name: "an Established CRD is ready",
		obj: `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: x.example.com}
status: {conditions: [{type: NamesAccepted, status: "True"}, {type: Established, status: "True"}]}`,
		ready: true, status: "Current",
	}, {
		name: "a CRD not yet Established is in progress",
		obj: `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: x.example.com}
status: {conditions: [{type: NamesAccepted, status: "True"}]}`,
		status: "InProgress",
	}, {
		name: "a LoadBalancer Service without an address is in progress",
		obj: `apiVersion: v1
kind: Service
metadata: {name: web}
spec: {type: LoadBalancer, clusterIP: 10.96.0.9}
status: {loadBalancer: {}}`,
		status: "InProgress",
	}, {
		name: "a LoadBalancer Service with an ingress hostname is ready",
		obj: `apiVersion: v1
kind: Service
metadata: {name: web}
spec: {type: LoadBalancer, clusterIP: 10.96.0.9}
status: {loadBalancer: {ingress: [{hostname: lb.example.com}]}}`,
		ready: true, status: "Current",
	}, {
		name: "a LoadBalancer Service with an ingress ip is ready",
		obj: `apiVersion: v1
kind: Service
metadata: {name: web}
spec: {type: LoadBalancer, clusterIP: 10.96.0.9}
status: {loadBalancer: {ingress: [{ip: 203.0.113.7}]}}`,
		ready: true, status: "Current",
	}, {
		name: "a custom resource with Ready False is in progress",
		obj: `apiVersion: example.com/v1
kind: Widget
metadata: {name: w, generation: 1}
status: {conditions: [{type: Ready, status: "False", reason: Waiting}]}`,
		status: "InProgress",
	}, {
		name: "a custom resource whose Available condition is from an older generation is in progress",
		obj: `apiVersion: example.com/v1
kind: Widget
metadata: {name: w, generation: 4}
status: {conditions: [{type: Available, status: "True", observedGeneration: 3}]}`,
		status: "InProgress",
	}, {
		name: "a custom resource with Available True at its generation is ready",
		obj: `apiVersion: example.com/v1
kind: Widget
metadata: {name: w, generation: 4}
status: {conditions: [{type: Available, status: "True", observedGeneration: 4}]}`,
		ready: true, status: "Current",
	}, {
		name: "a ConfigMap is ready at once",
		obj: `apiVersion: v1
kind: ConfigMap
metadata: {name: c}`,
		ready: true, status: "Current",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ready, st, msg := readiness(mustObject(t, tt.obj))
			if ready != tt.ready || st != tt.status {
				t.Errorf("readiness = %v, %s (%s); want %v, %s", ready, st, msg, tt.ready, tt.status)
			}
			if !ready && msg == "" {
				t.Error("no reason given for an object that is not ready")
			}
		})
	}
	t.Run("a missing object is not ready", func(t *testing.T) {
		if ready, st, _ := readiness(nil); ready || st != "NotFound" {
			t.Errorf("readiness(nil) = %v, %s", ready, st)
		}
	})
}

func TestStatusFields(t *testing.T) {
	tests := []struct {
		name string
		obj  string
		want map[string]string
	}{{
		name: "a LoadBalancer Service shows its address",
		obj: `apiVersion: v1
kind: Service
metadata: {name: web}
spec: {type: LoadBalancer, clusterIP: 10.96.0.9}
status: {loadBalancer: {ingress: [{hostname: lb.example.com}]}}`,
		want: map[string]string{"address": "lb.example.com", "clusterIP": "10.96.0.9"},
	}, {
		name: "a Deployment shows ready replicas out of desired",
		obj: `apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec: {replicas: 3}
status: {readyReplicas: 2}`,
		want: map[string]string{"readyReplicas": "2/3"},
	}, {
		name: "an object with a Ready condition shows it",
		obj: `apiVersion: example.com/v1
kind: Widget
metadata: {name: w}
status: {conditions: [{type: Ready, status: "True"}]}`,
		want: map[string]string{"ready": "True"},
	}, {
		name: "a ConfigMap shows nothing",
		obj: `apiVersion: v1
kind: ConfigMap
metadata: {name: c}`,
		want: nil,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, statusFields(mustObject(t, tt.obj))); diff != "" {
				t.Errorf("statusFields (-want +got):\n%s", diff)
			}
		})
	}
}
