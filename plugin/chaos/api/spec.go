package api

// Spec is the kind-specific spec of a chaos object: one of *HTTPChaosSpec,
// *PodChaosSpec, *NetworkChaosSpec, *StressChaosSpec, *IOChaosSpec,
// *DNSChaosSpec, *TimeChaosSpec, *JVMChaosSpec or *KernelChaosSpec.
type Spec interface {
	// Kind returns the kind the spec belongs to, e.g. "HTTPChaos".
	Kind() string
	// Common returns the duration and remote cluster.
	Common() *CommonSpec
	// Targets returns the selectors whose pods or containers the
	// controller turns into records, main selector first.
	Targets() []Target
	// OneShot reports whether the experiment acts once and ignores its
	// duration and the pause annotation (PodChaos pod-kill and
	// container-kill).
	OneShot() bool

	// validate reports problems in the kind-specific fields to v.
	validate(v *validator)
}

// SpecAs returns o's spec as the concrete type T, e.g.
// SpecAs[*HTTPChaosSpec](o), and whether it has that type.
func SpecAs[T Spec](o *Object) (T, bool) {
	s, ok := o.Spec.(T)
	return s, ok
}
