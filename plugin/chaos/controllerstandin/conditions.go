package controllerstandin

import (
	"context"

	"github.com/cloudify-chaos/chaosops/plugin/chaos/api"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// conditionsFor derives the conditions from the records and the pause
// annotation, as Chaos Mesh's condition controller: Selected when records
// exist, AllInjected / AllRecovered when records exist and every one is
// Injected / Not Injected, Paused from the annotation.
func conditionsFor(obj *api.Object) []api.ChaosCondition {
	records := obj.Status.Experiment.Records
	every := func(p api.Phase) bool {
		if records == nil {
			return false
		}
		for _, r := range records {
			if r.Phase != p {
				return false
			}
		}
		return true
	}
	status := func(b bool) corev1.ConditionStatus {
		if b {
			return corev1.ConditionTrue
		}
		return corev1.ConditionFalse
	}
	// Chaos Mesh builds the list from a map, so its order varies; a fixed
	// order is one of the orders it produces.
	return []api.ChaosCondition{
		{Type: api.ConditionSelected, Status: status(records != nil)},
		{Type: api.ConditionAllInjected, Status: status(every(api.PhaseInjected))},
		{Type: api.ConditionAllRecovered, Status: status(every(api.PhaseNotInjected))},
		{Type: api.ConditionPaused, Status: status(paused(obj))},
	}
}

// sameConditions compares condition lists as sets, ignoring order.
func sameConditions(a, b []api.ChaosCondition) bool {
	index := func(l []api.ChaosCondition) map[api.ConditionType]api.ChaosCondition {
		m := make(map[api.ConditionType]api.ChaosCondition, len(l))
		for _, c := range l {
			m[c.Type] = c
		}
		return m
	}
	ma, mb := index(a), index(b)
	if len(ma) != len(mb) {
		return false
	}
	for t, c := range ma {
		if mb[t] != c {
			return false
		}
	}
	return true
}

// stepConditions is the condition step: it rewrites status.conditions when
// they differ from what the records say.
func (c *controller) stepConditions(ctx context.Context, k key, snap *snapshot) (result, error) {
	obj := snap.obj
	if sameConditions(obj.Status.Conditions, conditionsFor(obj)) {
		return result{}, nil
	}
	var written []api.ChaosCondition
	err := c.update(ctx, k, snap, func(u *unstructured.Unstructured, fresh *api.Object) (bool, error) {
		written = conditionsFor(fresh)
		if sameConditions(fresh.Status.Conditions, written) {
			return false, nil
		}
		return true, setStatus(u, written, "conditions")
	})
	if err != nil {
		c.emit(obj, failed("update conditions", err))
		return result{}, nil
	}
	c.log.Info("conditions", "ref", k.ref(), "conditions", conditionString(written))
	return result{}, nil
}

func conditionString(l []api.ChaosCondition) string {
	s := ""
	for i, c := range l {
		if i > 0 {
			s += " "
		}
		s += string(c.Type) + "=" + string(c.Status)
	}
	return s
}
