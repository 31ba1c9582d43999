package controllerstandin

import (
	"log/slog"
	"time"

	"github.com/cloudify-chaos/chaosops/plugin/chaos/api"
)

// Defaults for Options.
const (
	// DefaultWorkers is how many objects are reconciled at once.
	DefaultWorkers = 4
	// DefaultMaxEvents is how many events a record keeps, as Chaos Mesh's
	// MAX_EVENTS default.
	DefaultMaxEvents = 100
	// FieldManager names the stand-in in managedFields; Kubernetes Events
	// it emits have it as their source component.
	FieldManager = "chaos-controller-standin"
)

// Options configure Run. The zero value is a faithful controller that
// handles every kind in namespaces not claimed by another instance.
type Options struct {
	// Kinds are the kinds to watch; nil means api.Kinds().
	Kinds []api.Kind
	// Workers is how many objects are reconciled at once (default
	// DefaultWorkers). One object is never reconciled by two workers.
	Workers int

	// NamespaceFilter makes only pods of namespaces annotated
	// chaos-mesh.org/inject=enabled eligible, as Chaos Mesh's
	// ENABLE_FILTER_NAMESPACE.
	NamespaceFilter bool
	// Instance scopes the stand-in to some namespaces, so that a test can
	// run its own instance next to a shared one: an empty Instance handles
	// chaos objects in namespaces without the InstanceLabel; a named one
	// handles only namespaces labelled InstanceLabel=Instance. (Not a Chaos
	// Mesh feature.)
	Instance string
	// Resync re-reconciles every object this often; 0 never does. Chaos
	// Mesh's controller filters out resync events, so only a stand-in
	// convenience: it retries selection for objects that selected nothing.
	Resync time.Duration

	// FailInjection makes every injection fail, as the annotation
	// FailInjectionAnnotation does for one object.
	FailInjection bool
	// FailRecovery makes every recovery fail, as FailRecoveryAnnotation.
	FailRecovery bool
	// StickyFinalizer keeps the finalizer on deleted objects unless they
	// carry the forced cleanFinalizer annotation, as
	// StickyFinalizerAnnotation.
	StickyFinalizer bool
	// InjectionDelay holds records in phase "Not Injected/Wait" this long
	// before they become Injected, as InjectionDelayAnnotation.
	InjectionDelay time.Duration

	// MaxEvents bounds the events kept per record (default
	// DefaultMaxEvents).
	MaxEvents int
	// NoEvents turns off the Kubernetes Events the real controller emits
	// (Started, Applied, Recovered, Failed, ...).
	NoEvents bool
	// Logger receives one line per change and error (nil discards).
	Logger *slog.Logger
	// Ready, if set, is called once the watches are established and the
	// existing objects have been queued.
	Ready func()
}

func (o Options) withDefaults() Options {
	if o.Kinds == nil {
		o.Kinds = api.Kinds()
	}
	if o.Workers <= 0 {
		o.Workers = DefaultWorkers
	}
	if o.MaxEvents <= 0 {
		o.MaxEvents = DefaultMaxEvents
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}
