// Package api holds typed Go structs for the Chaos Mesh custom resources of
// chaos-mesh.org/v1alpha1 that chaosops creates and reads: HTTPChaos,
// PodChaos, NetworkChaos, StressChaos, IOChaos, DNSChaos, TimeChaos, JVMChaos
// and KernelChaos.
//
// The structs are written for this project after the pinned CRDs
// (shared/crds/chaos-mesh-crd.yaml), which are the authoritative schema: every
// field of every kind's spec can be set, and a test checks the structs against
// the CRD schema field by field. The JSON names, the status layout
// (status.conditions, status.experiment.containerRecords[].events) and the
// well-known annotations and finalizer follow Chaos Mesh's own api/v1alpha1.
//
// An Object is one chaos object of any kind: its Spec is the kind-specific
// struct (for example *HTTPChaosSpec) behind the Spec interface, chosen from
// the object's kind when decoding. ToUnstructured and FromUnstructured convert
// to and from the dynamic client's representation, Kinds lists the kinds with
// their resources, Condition reads a status condition, and Validate checks the
// parts of a spec that chaosops generates, with errors that name the field and
// the fix.
//
// None of the chaos kinds has a status subresource in the pinned CRDs, so the
// status is written with the object itself, as Chaos Mesh's controller does.
package api
