package helm

import (
	"context"
	"fmt"
	"time"

	"helm.sh/helm/v4/pkg/action"
	rcommon "helm.sh/helm/v4/pkg/release/common"
	release "helm.sh/helm/v4/pkg/release/v1"
)

// recover brings a release that a killed run left in transition to a state
// Install can go on from, and returns its newest revision (nil when the
// release was removed) and whether anything was done.
//
// A cancelled run marks its revision failed itself; only a run that died
// (kill -9, a lost machine) leaves "pending-*" or "uninstalling" behind, and
// Helm refuses to touch such a release. A pending revision is first given
// the time a live run could still be working on it (Timeout plus a minute:
// any wait of that run ends by then); until then Install returns a
// BusyError instead of fighting another run.
//
// A stale pending revision is then undone rather than marked failed,
// because undoing diffs from the pending revision's manifest, so objects the
// dead run had already created are removed too:
//   - pending-install (or no revision ever deployed): uninstall, then
//     install afresh; nothing was deployed, so nothing is lost;
//   - pending-upgrade or pending-rollback: roll back to the newest revision
//     that was deployed, keeping the application running, then upgrade.
//
// "uninstalling" (or a kept "uninstalled" record) is finished first: an
// interrupted uninstall may have deleted part of the resources, and a fresh
// install is the only way to a complete release.
func (s *session) recover(ctx context.Context, r Release, hist []*release.Release) (*release.Release, bool, error) {
	cur := last(hist)
	if cur == nil {
		return nil, false, nil
	}
	rf := ref(r.Namespace, r.Name)
	st := cur.Info.Status
	switch {
	case st == rcommon.StatusUninstalling || st == rcommon.StatusUninstalled:
		s.log.Warn(fmt.Sprintf("helm release %s: revision %d is %s (an uninstall did not finish); finishing it before installing", rf, cur.Version, st))
		if err := s.uninstall(ctx, cur, r.Wait, r.Timeout); err != nil {
			return nil, false, err
		}
		return nil, true, nil
	case !st.IsPending():
		return cur, false, nil
	}
	age, stale := time.Since(cur.Info.LastDeployed), r.Timeout+staleMargin
	if age < stale {
		return nil, false, &BusyError{Release: rf, Status: st.String(), Since: cur.Info.LastDeployed, StaleIn: stale - age}
	}
	good := lastGood(hist)
	if st == rcommon.StatusPendingInstall || good == nil {
		s.log.Warn(fmt.Sprintf("helm release %s: revision %d has been %s for %s (a run died); uninstalling it to install afresh", rf, cur.Version, st, age.Round(time.Second)))
		if err := s.uninstall(ctx, cur, r.Wait, r.Timeout); err != nil {
			return nil, false, err
		}
		return nil, true, nil
	}
	s.log.Warn(fmt.Sprintf("helm release %s: revision %d has been %s for %s (a run died); rolling back to revision %d", rf, cur.Version, st, age.Round(time.Second), good.Version))
	rb := action.NewRollback(s.ac)
	rb.Version, rb.MaxHistory = good.Version, maxHistory
	rb.Timeout, rb.WaitStrategy, rb.WaitForJobs, rb.WaitOptions = r.Timeout, strategy(r.Wait), r.Wait, waitOptions(ctx)
	if err := rb.Run(r.Name); err != nil {
		return nil, false, outcome(ctx, rf, r.Timeout, fmt.Errorf("roll back to revision %d: %w", good.Version, err))
	}
	hist, err := s.history(r.Name)
	if err != nil {
		return nil, false, err
	}
	return last(hist), true, nil
}

// lastGood is the newest revision that was deployed (superseded counts:
// a later revision replaced it successfully).
func lastGood(hist []*release.Release) *release.Release {
	for i := len(hist) - 2; i >= 0; i-- {
		if st := hist[i].Info.Status; st == rcommon.StatusDeployed || st == rcommon.StatusSuperseded {
			return hist[i]
		}
	}
	return nil
}
