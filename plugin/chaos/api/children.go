package api

import (
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// ChildKind is a kind of object that Chaos Mesh's controller creates per
// target pod to hold the faults of every experiment on that pod, for
// chaos-daemon to apply: PodHttpChaos, PodNetworkChaos and PodIOChaos.
// Each is named after its pod, lives in the pod's namespace, and each of
// its entries carries the experiment it came from in a "source" field,
// "namespace/name" (see RuleSource). The controller removes an
// experiment's entries when it recovers the record; when an experiment is
// removed without recovery (its finalizer forced off), they stay.
type ChildKind struct {
	// Name is the kind, e.g. "PodHttpChaos".
	Name string
	// Resource is the plural resource name, e.g. "podhttpchaos".
	Resource string
	// Entries are the field paths of the lists whose entries carry a
	// source, e.g. ["spec", "rules"].
	Entries [][]string
	// Parent is the experiment kind that fills it.
	Parent string
}

// GroupVersionResource returns chaos-mesh.org/v1alpha1 with k's resource.
func (k ChildKind) GroupVersionResource() schema.GroupVersionResource {
	return GroupVersion.WithResource(k.Resource)
}

// SourceField is the field of a child entry naming its experiment.
const SourceField = "source"

// The child kinds, after Chaos Mesh's api/v1alpha1 podhttpchaos_types.go
// (PodHttpChaosRule.Source), podnetworkchaos_types.go (RawRuleSource of
// ipsets and iptables, RawTrafficControl.Source) and podiochaos_types.go
// (IOChaosAction.Source).
var childKinds = []ChildKind{
	{Name: "PodHttpChaos", Resource: "podhttpchaos", Parent: "HTTPChaos", Entries: [][]string{{"spec", "rules"}}},
	{Name: "PodNetworkChaos", Resource: "podnetworkchaos", Parent: "NetworkChaos", Entries: [][]string{{"spec", "ipsets"}, {"spec", "iptables"}, {"spec", "tcs"}}},
	{Name: "PodIOChaos", Resource: "podiochaos", Parent: "IOChaos", Entries: [][]string{{"spec", "actions"}}},
}

// ChildKinds returns every child kind.
func ChildKinds() []ChildKind {
	return append([]ChildKind(nil), childKinds...)
}

// ChildKindsOf returns the child kinds an experiment of kind fills; none
// for the kinds that chaos-daemon injects without a child object
// (PodChaos, StressChaos, DNSChaos, TimeChaos, JVMChaos, KernelChaos).
func ChildKindsOf(kind string) []ChildKind {
	var out []ChildKind
	for _, c := range childKinds {
		if c.Parent == kind {
			out = append(out, c)
		}
	}
	return out
}

// RuleSource is the source an experiment's entries carry in the child
// objects: "namespace/name", as Chaos Mesh's implementations set it.
func RuleSource(namespace, name string) string { return namespace + "/" + name }
