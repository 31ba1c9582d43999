package chaos

import (
	"context"
	"fmt"
	"strings"

	"github.com/cloudify-chaos/chaosops/plugin/chaos/api"
	"github.com/cloudify-chaos/chaosops/plugin/progress"
)

// track logs the progress of a wait on the chaos object every
// progress.Interval until stop is called: its conditions and the records
// not yet in the wanted phase. seen is read from another goroutine, so the
// watch callbacks publish each version there.
func (x *run) track(ctx context.Context, what string, want api.Phase) (stop func()) {
	return progress.Start(ctx, x.r.Log, fmt.Sprintf("%s: %s", x.res.Ref, what), func() []string {
		o := x.seen.Load()
		if o == nil {
			return []string{"not seen yet"}
		}
		return pendingRecords(o, want)
	})
}

// pendingRecords describes o's conditions and each record not in the
// phase want (all of them when want is empty).
func pendingRecords(o *api.Object, want api.Phase) []string {
	var conds []string
	for _, t := range api.ConditionTypes {
		st, ok := api.Condition(o, t)
		if !ok {
			st = "Unknown"
		}
		conds = append(conds, fmt.Sprintf("%s=%s", t, st))
	}
	out := []string{"conditions " + strings.Join(conds, " ")}
	if o.Status.Experiment.Records == nil {
		return append(out, "no target selected yet")
	}
	for _, r := range o.Status.Experiment.Records {
		if want == "" || r.Phase != want {
			out = append(out, fmt.Sprintf("%s: %s", r.Id, r.Phase))
		}
	}
	return out
}
