package chaos

import (
	"strings"
	"time"

	"github.com/cloudify-chaos/chaosops/plugin/chaos/api"
	"github.com/cloudify-chaos/chaosops/plugin/failure"
	"github.com/cloudify-chaos/chaosops/plugin/kube"
)

// Check runs every check of a run that needs no cluster, so that an
// adapter refuses the run before it connects and nothing is created or
// written: the object's own validation, namespace names, the timeouts,
// then the guardrails. A bad value (a duration over max_duration, a
// percentage over max_percent, mode all without allow_all_targets) is a
// *failure.InvalidError naming the field; a well-formed run the policy
// refuses (the safety lever, a protected namespace, a namespace or port
// outside the allowed lists) is a *PrecheckError. Check changes nothing in
// o. Run and Preflight call it too.
func (o RunOptions) Check() error {
	o.setDefaults()
	obj := o.Object
	if obj == nil || obj.Spec == nil {
		return failure.Invalidf("spec", "no chaos experiment given")
	}
	kind, ok := api.KindNamed(obj.Spec.Kind())
	if !ok {
		return failure.Invalidf("kind", "%s is not a chaos kind (one of %s)", obj.Spec.Kind(), strings.Join(api.KindNames(), ", "))
	}
	cp := *obj // the checks see the object as Run will create it
	if cp.Namespace == "" {
		cp.Namespace = o.Namespace
	}
	if cp.Name == "" && cp.GenerateName == "" {
		cp.Name = objectName(kind, "check")
	}
	cp.APIVersion, cp.Kind = api.GroupVersion.String(), kind.Name
	if err := checkOptions(o, cp.Namespace); err != nil {
		return err
	}
	if err := cp.Validate(); err != nil {
		return err
	}
	if err := checkValues(&cp, o); err != nil {
		return err
	}
	return checkPolicy(&cp, o.Guard, o.ChaosNamespace)
}

// checkOptions checks the run's own options: namespaces and timeouts.
func checkOptions(o RunOptions, ns string) error {
	if ns == "" {
		return failure.Invalidf("namespace", "not set; give the namespace of the chaos object")
	}
	if err := kube.CheckNamespace("namespace", ns); err != nil {
		return err
	}
	if err := kube.CheckNamespace("chaos_namespace", o.ChaosNamespace); err != nil {
		return err
	}
	for _, n := range o.Guard.AllowedNamespaces {
		if err := kube.CheckNamespace("allowed_namespaces", n); err != nil {
			return err
		}
	}
	for _, d := range []struct {
		field string
		v     time.Duration
	}{{"duration", o.Duration}, {"injection_timeout", o.InjectionTimeout}, {"recovery_timeout", o.RecoveryTimeout},
		{"delete_timeout", o.DeleteTimeout}, {"max_duration", o.Guard.MaxDuration}} {
		if d.v < 0 {
			return failure.Invalidf(d.field, "%s is negative; use e.g. 2m", d.v)
		}
	}
	if p := o.Guard.MaxPercent; p < 0 || p > 100 {
		return failure.Invalidf("max_percent", "%d is not a percentage; use 1..100, e.g. %d", p, DefaultMaxPercent)
	}
	for _, p := range o.Guard.AllowedPorts {
		if p < 1 || p > 65535 {
			return failure.Invalidf("allowed_ports", "%d is not a port; use 1..65535", p)
		}
	}
	return nil
}

// checkValues refuses values outside the run's own limits: the duration
// (spec.duration, else o.Duration) and the selectors' modes.
func checkValues(obj *api.Object, o RunOptions) error {
	dur := o.Duration
	if d := obj.Spec.Common().Duration; d != nil && *d != "" {
		var err error
		if dur, err = time.ParseDuration(*d); err != nil {
			return failure.Invalidf("duration", "%q is not a duration; use e.g. 2m (max %s)", *d, o.Guard.MaxDuration)
		}
	}
	switch {
	case dur <= 0:
		return failure.Invalidf("duration", "%s is not a positive duration; use e.g. 2m (max %s)", dur, o.Guard.MaxDuration)
	case dur > o.Guard.MaxDuration:
		return failure.Invalidf("duration", "%s is longer than max_duration %s; shorten it or raise max_duration", dur, o.Guard.MaxDuration)
	}
	for _, t := range obj.Spec.Targets() {
		if err := checkMode(t.Selector, o.Guard); err != nil {
			return err
		}
	}
	return nil
}

// Check refuses token options that cannot work, before connecting.
func (o TokenOptions) Check() error {
	if o.Namespace == "" {
		return failure.Invalidf("namespace", "not set; give the app namespace the dashboard may act in")
	}
	if err := kube.CheckNamespace("namespace", o.Namespace); err != nil {
		return err
	}
	if o.Role != "" && o.Role != DashboardViewer && o.Role != DashboardManager {
		return failure.Invalidf("role", "%q is not viewer or manager", o.Role)
	}
	if o.TTL != 0 && o.TTL < 10*time.Minute {
		return failure.Invalidf("ttl", "%s is shorter than the API server's 10m minimum; use e.g. 1h", o.TTL)
	}
	return nil
}

// Check refuses a selection whose namespace is no namespace name.
func (s Selection) Check() error {
	return kube.CheckNamespace("namespace", s.Namespace)
}
