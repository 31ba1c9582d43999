package kube

import "k8s.io/apimachinery/pkg/runtime/schema"

// Tiers. Apply goes up, Delete goes down; objects within a tier are handled
// in parallel.
const (
	// tierDefinitions holds what other objects need to exist first:
	// Namespaces, CustomResourceDefinitions and cluster classes that pods
	// and claims refer to by name.
	tierDefinitions = iota
	// tierObjects holds everything else.
	tierObjects
	// tierWebhooks holds admission webhook configurations, applied last so
	// that a webhook whose service is not up yet cannot reject the objects
	// of the same apply.
	tierWebhooks
	numTiers
)

var definitionKinds = map[schema.GroupKind]bool{
	{Group: "", Kind: "Namespace"}:                                    true,
	{Group: "apiextensions.k8s.io", Kind: "CustomResourceDefinition"}: true,
	{Group: "scheduling.k8s.io", Kind: "PriorityClass"}:               true,
	{Group: "storage.k8s.io", Kind: "StorageClass"}:                   true,
	{Group: "node.k8s.io", Kind: "RuntimeClass"}:                      true,
}

var webhookKinds = map[schema.GroupKind]bool{
	{Group: "admissionregistration.k8s.io", Kind: "MutatingWebhookConfiguration"}:   true,
	{Group: "admissionregistration.k8s.io", Kind: "ValidatingWebhookConfiguration"}: true,
}

// tierOf returns the apply tier of a kind.
func tierOf(gk schema.GroupKind) int {
	switch {
	case definitionKinds[gk]:
		return tierDefinitions
	case webhookKinds[gk]:
		return tierWebhooks
	}
	return tierObjects
}

var crdGK = schema.GroupKind{Group: "apiextensions.k8s.io", Kind: "CustomResourceDefinition"}
