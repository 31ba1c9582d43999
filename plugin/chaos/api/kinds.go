package api

import "k8s.io/apimachinery/pkg/runtime/schema"

// Kind describes one chaos kind.
type Kind struct {
	// Name is the kind, e.g. "HTTPChaos".
	Name string
	// Resource is the plural resource name, e.g. "httpchaos".
	Resource string

	newSpec func() Spec
}

// GroupVersionKind returns chaos-mesh.org/v1alpha1 with k's kind.
func (k Kind) GroupVersionKind() schema.GroupVersionKind { return GroupVersion.WithKind(k.Name) }

// GroupVersionResource returns chaos-mesh.org/v1alpha1 with k's resource,
// for the dynamic client.
func (k Kind) GroupVersionResource() schema.GroupVersionResource {
	return GroupVersion.WithResource(k.Resource)
}

// NewSpec returns an empty spec of k's type.
func (k Kind) NewSpec() Spec { return k.newSpec() }

// The kinds, in the order Kinds returns them. The resource names are the
// plurals of the pinned CRDs, which equal the lower-cased kinds.
var kinds = []Kind{
	{Name: "HTTPChaos", Resource: "httpchaos", newSpec: func() Spec { return &HTTPChaosSpec{} }},
	{Name: "PodChaos", Resource: "podchaos", newSpec: func() Spec { return &PodChaosSpec{} }},
	{Name: "NetworkChaos", Resource: "networkchaos", newSpec: func() Spec { return &NetworkChaosSpec{} }},
	{Name: "StressChaos", Resource: "stresschaos", newSpec: func() Spec { return &StressChaosSpec{} }},
	{Name: "IOChaos", Resource: "iochaos", newSpec: func() Spec { return &IOChaosSpec{} }},
	{Name: "DNSChaos", Resource: "dnschaos", newSpec: func() Spec { return &DNSChaosSpec{} }},
	{Name: "TimeChaos", Resource: "timechaos", newSpec: func() Spec { return &TimeChaosSpec{} }},
	{Name: "JVMChaos", Resource: "jvmchaos", newSpec: func() Spec { return &JVMChaosSpec{} }},
	{Name: "KernelChaos", Resource: "kernelchaos", newSpec: func() Spec { return &KernelChaosSpec{} }},
}

// Kinds returns the chaos kinds this package models.
func Kinds() []Kind {
	out := make([]Kind, len(kinds))
	copy(out, kinds)
	return out
}

// KindNamed returns the kind called name ("HTTPChaos") and whether it is
// one of Kinds.
func KindNamed(name string) (Kind, bool) {
	for _, k := range kinds {
		if k.Name == name {
			return k, true
		}
	}
	return Kind{}, false
}

// KindNames returns the names of Kinds, for messages listing the choices.
func KindNames() []string {
	out := make([]string, len(kinds))
	for i, k := range kinds {
		out[i] = k.Name
	}
	return out
}
