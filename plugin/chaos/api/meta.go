package api

import "k8s.io/apimachinery/pkg/runtime/schema"

// The API group and version of the Chaos Mesh experiment kinds.
const (
	// Group is the API group, chaos-mesh.org.
	Group = "chaos-mesh.org"
	// Version is the only served version, v1alpha1.
	Version = "v1alpha1"
)

// GroupVersion is chaos-mesh.org/v1alpha1.
var GroupVersion = schema.GroupVersion{Group: Group, Version: Version}

// Well-known annotations, finalizer and values of Chaos Mesh.
const (
	// PauseAnnotation pauses an experiment when set to "true": the
	// controller recovers every target and sets the Paused condition.
	// Removing it (or any other value) resumes the experiment.
	PauseAnnotation = "experiment.chaos-mesh.org/pause"

	// RecordsFinalizer is the finalizer the controller adds to every
	// experiment, and removes once all records are recovered after deletion.
	RecordsFinalizer = "chaos-mesh/records"

	// CleanFinalizerAnnotation, set to CleanFinalizerForced on an experiment
	// being deleted, makes the controller drop its finalizers without
	// waiting for recovery (what the dashboard's "force delete" does).
	CleanFinalizerAnnotation = "chaos-mesh.chaos-mesh.org/cleanFinalizer"
	// CleanFinalizerForced is the value of CleanFinalizerAnnotation that
	// forces the finalizers off.
	CleanFinalizerForced = "forced"

	// InjectAnnotation on a Namespace, set to InjectEnabled, makes its pods
	// eligible for chaos when the controller filters namespaces
	// (ENABLE_FILTER_NAMESPACE in Chaos Mesh's controller).
	InjectAnnotation = "chaos-mesh.org/inject"
	// InjectEnabled is the value of InjectAnnotation that enables a namespace.
	InjectEnabled = "enabled"
)
