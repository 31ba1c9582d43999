package chaos

import (
	"context"
	"time"

	"github.com/cloudify-chaos/chaosops/plugin/chaos/api"
)

// Labels put on every chaos object chaosops creates, so that reap and
// halt_all find them and nothing else.
const (
	LabelManagedBy  = "app.kubernetes.io/managed-by"
	ManagedBy       = "chaosops"
	LabelDeployment = "chaosops.dev/deployment"
	LabelRun        = "chaosops.dev/run"
	LabelBlueprint  = "chaosops.dev/blueprint"
	LabelExecution  = "chaosops.dev/execution"
)

// Defaults of RunOptions.
const (
	DefaultDuration         = 2 * time.Minute
	DefaultMaxDuration      = 10 * time.Minute
	DefaultInjectionTimeout = 2 * time.Minute
	DefaultRecoveryTimeout  = 2 * time.Minute
	DefaultDeleteTimeout    = time.Minute
	DefaultMaxPercent       = 50
	DefaultChaosNamespace   = "chaos-mesh"
)

// Owner identifies who a run belongs to; it becomes labels.
type Owner struct {
	Deployment string // Cloudify deployment id, or "cli"
	Blueprint  string
	Execution  string
	// RunID is unique per run; the object is named <kind>-<RunID>. A retry
	// of the same Cloudify operation reuses it, so it adopts its object
	// instead of creating a second one.
	RunID string
}

// Guardrails refuse dangerous runs before anything is created.
type Guardrails struct {
	// AllowedNamespaces, when set, are the only namespaces a run may target.
	AllowedNamespaces []string
	// AllowedPorts, when set, are the only ports an HTTPChaos may target.
	AllowedPorts []int
	// MaxDuration caps spec.duration; default DefaultMaxDuration.
	MaxDuration time.Duration
	// AllowAllTargets permits mode all and percentages above MaxPercent.
	AllowAllTargets bool
	// MaxPercent is the largest fixed-percent/random-max-percent value
	// allowed without AllowAllTargets; default DefaultMaxPercent.
	MaxPercent int
	// ProtectedNamespaces are never targeted, whatever else is set: the
	// Chaos Mesh namespace, monitoring and kube-system are always in it.
	ProtectedNamespaces []string
	// SafetyLever is the value of the chaos-safety-lever secret or file;
	// "on" refuses every new run.
	SafetyLever string
}

// RunOptions describe one run.
type RunOptions struct {
	// Object is the experiment to create; its name and labels are set by
	// Run, its namespace defaults to Namespace.
	Object *api.Object
	// Namespace of the chaos object (and default target namespace).
	Namespace string
	Owner     Owner
	Guard     Guardrails

	// Duration is set as spec.duration when the spec has none, so the
	// cluster ends the fault even if we die; default DefaultDuration.
	Duration time.Duration
	// InjectionTimeout bounds the wait for Selected and AllInjected; a
	// permanent failure ends it sooner (see FailurePatterns).
	InjectionTimeout time.Duration
	// RecoveryTimeout bounds, after the hold, the wait for the controller
	// to stop the fault (desiredPhase Stop, often late), and then again
	// the wait for AllRecovered.
	RecoveryTimeout time.Duration
	// DeleteTimeout bounds the wait for the object to be gone, after a
	// cancel too.
	DeleteTimeout time.Duration
	// CleanupGrace, when set, caps the whole cleanup after a cancel, for a
	// caller that must answer sooner than DeleteTimeout (a Cloudify
	// operation's process is given a fixed grace after a cancel). Zero
	// lets the cleanup after a cancel wait as long as any other.
	CleanupGrace time.Duration
	// ForceCleanup removes a stuck finalizer with Chaos Mesh's
	// cleanFinalizer annotation (or, when the controller ignores it, with
	// a patch), then removes the run's entries from the Pod*Chaos child
	// objects; the run is then "recovery unverified".
	ForceCleanup bool

	// ChaosNamespace is where Chaos Mesh runs; default DefaultChaosNamespace.
	ChaosNamespace string
	// SkipDaemonCheck skips the chaos-daemon check of the preflight.
	SkipDaemonCheck bool

	// OnIntent is called with the object's name before it is created, so
	// the caller can record it (runtime property) for cleanup and reap.
	OnIntent func(name string) error
	// Hooks let probes gate, watch and judge the run (may be nil).
	Hooks Hooks
}

// Hooks are called at the phases of a run. Each may be nil.
type Hooks struct {
	// Before runs after the preflight; an error refuses the run
	// (precheck_failed).
	Before func(ctx context.Context) error
	// During starts when all targets are injected and runs until its
	// context ends (hold over); it sends on abort to end the hold early
	// with verdict slo_breach.
	During func(ctx context.Context, abort func(reason string))
	// After runs once the object is gone; it returns the final verdict
	// (pass, no_effect, recovered_but_degraded) and a reason.
	After func(ctx context.Context, r *Result) (Verdict, string)
}

func (o *RunOptions) setDefaults() {
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&o.Duration, DefaultDuration)
	def(&o.InjectionTimeout, DefaultInjectionTimeout)
	def(&o.RecoveryTimeout, DefaultRecoveryTimeout)
	def(&o.DeleteTimeout, DefaultDeleteTimeout)
	def(&o.Guard.MaxDuration, DefaultMaxDuration)
	if o.Guard.MaxPercent == 0 {
		o.Guard.MaxPercent = DefaultMaxPercent
	}
	if o.ChaosNamespace == "" {
		o.ChaosNamespace = DefaultChaosNamespace
	}
}
