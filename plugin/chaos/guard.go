package chaos

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cloudify-chaos/chaosops/plugin/chaos/api"
	"github.com/cloudify-chaos/chaosops/plugin/failure"
)

// alwaysProtected are never targeted: faulting them would blind the
// operator (monitoring) or break the tool that must end the fault.
var alwaysProtected = []string{"kube-system", "monitoring"}

// targetNamespaces lists the namespaces a spec's selectors reach; an empty
// selector reaches the object's own namespace (Chaos Mesh's default).
func targetNamespaces(obj *api.Object) []string {
	var out []string
	add := func(ns string) {
		if ns != "" && !slices.Contains(out, ns) {
			out = append(out, ns)
		}
	}
	for _, t := range obj.Spec.Targets() {
		sel := t.Selector.Selector
		if len(sel.Pods) > 0 {
			for ns := range sel.Pods {
				add(ns)
			}
			continue
		}
		if len(sel.Namespaces) == 0 {
			add(obj.Namespace)
		}
		for _, ns := range sel.Namespaces {
			add(ns)
		}
	}
	slices.Sort(out)
	return out
}

// checkPolicy refuses a well-formed run the policy does not allow: the
// safety lever, protected namespaces, allowed_namespaces, allowed_ports.
// The errors say which input to change.
func checkPolicy(obj *api.Object, g Guardrails, chaosNS string) error {
	if err := checkLever(g.SafetyLever); err != nil {
		return err
	}
	protected := append(append([]string{chaosNS}, alwaysProtected...), g.ProtectedNamespaces...)
	for _, ns := range append([]string{obj.Namespace}, targetNamespaces(obj)...) {
		if slices.Contains(protected, ns) {
			return precheckf("guardrail protected namespace", "namespace %s is never targeted (protected: %s)", ns, strings.Join(protected, ", "))
		}
		if len(g.AllowedNamespaces) > 0 && !slices.Contains(g.AllowedNamespaces, ns) {
			return precheckf("guardrail allowed_namespaces", "namespace %s is not in allowed_namespaces %v; add it there to allow it", ns, g.AllowedNamespaces)
		}
	}
	if h, ok := obj.Spec.(*api.HTTPChaosSpec); ok && len(g.AllowedPorts) > 0 && !slices.Contains(g.AllowedPorts, int(h.Port)) {
		return precheckf("guardrail allowed_ports", "port %d is not in allowed_ports %v", h.Port, g.AllowedPorts)
	}
	return nil
}

// checkLever refuses runs while the safety lever is on. It fails safe: a
// value that is neither on nor off (a typo such as "onn") refuses too,
// since whoever set it most likely meant to stop chaos.
func checkLever(v string) error {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "", "off", "false", "no", "0", "disabled":
		return nil
	case "on", "true", "yes", "1", "enabled":
		return precheckf("safety lever", "chaos-safety-lever is on: new chaos runs are refused until it is set to off")
	}
	return precheckf("safety_lever", "chaos-safety-lever is %q, neither on nor off: new chaos runs are refused until it says off", v)
}

func checkMode(s *api.PodSelector, g Guardrails) error {
	if g.AllowAllTargets {
		return nil
	}
	switch s.Mode {
	case api.ModeAll:
		return failure.Invalidf("mode", "all affects every matched pod; set allow_all_targets: true to allow it, or use mode one/fixed/fixed-percent")
	case api.ModeFixedPercent, api.ModeRandomMaxPercent:
		pct, err := strconv.Atoi(s.Value)
		if err != nil {
			return failure.Invalidf("value", "%q is not a percentage; use e.g. 30", s.Value)
		}
		if pct > g.MaxPercent {
			return failure.Invalidf("value", "mode %s with value %d%% is above the %d%% limit (max_percent); lower it or set allow_all_targets: true", s.Mode, pct, g.MaxPercent)
		}
	}
	return nil
}

// setDuration makes sure spec.duration is set, so the cluster ends the
// fault even if this process dies.
func setDuration(obj *api.Object, d time.Duration) {
	c := obj.Spec.Common()
	if c.Duration == nil || *c.Duration == "" {
		s := d.String()
		c.Duration = &s
	}
}

// holdFor returns the spec's duration.
func holdFor(obj *api.Object) (time.Duration, error) {
	d := obj.Spec.Common().Duration
	if d == nil {
		return 0, fmt.Errorf("spec.duration is not set")
	}
	return time.ParseDuration(*d)
}
