package helm

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/cloudify-chaos/chaosops/plugin/failure"
	"k8s.io/client-go/rest"

	"helm.sh/helm/v4/pkg/action"
	helmkube "helm.sh/helm/v4/pkg/kube"
	release "helm.sh/helm/v4/pkg/release/v1"
)

// Uninstall removes the release name from namespace: its resources (in
// reverse install order; CRDs from the chart's crds/ folder stay, as with
// the helm CLI) and every revision record. With wait it waits until the
// resources are gone (deleting with foreground propagation, so a
// Deployment's pods go first). An absent release is success, with
// Status.Changed false. Cancelling ctx stops the wait; the release stays
// "uninstalling" and the next Uninstall (or Install) finishes it.
func Uninstall(ctx context.Context, cfg *rest.Config, name, namespace string, wait bool, timeout time.Duration, log *slog.Logger) (*Status, error) {
	if err := validateName(name, namespace); err != nil {
		return nil, err
	}
	if timeout < 0 {
		return nil, failure.Invalidf("timeout", "must not be negative (got %s); e.g. 5m", timeout)
	}
	if timeout == 0 {
		timeout = DefaultTimeout
	}
	s, err := newSession(cfg, namespace, log)
	if err != nil {
		return nil, err
	}
	rf := ref(namespace, name)
	hist, err := s.history(name)
	if err != nil {
		return nil, err
	}
	cur := last(hist)
	if cur == nil {
		s.log.Info(fmt.Sprintf("helm release %s: not installed; nothing to uninstall", rf))
		return &Status{Name: name, Namespace: namespace, Status: "absent"}, nil
	}
	st := statusOf(cur, true, s.resources(cur))
	s.log.Info(fmt.Sprintf("helm release %s: uninstalling revision %d (%s, %d resources)", rf, cur.Version, chartName(cur.Chart), len(st.Resources)))
	if err := s.uninstall(ctx, cur, wait, timeout); err != nil {
		return st, err
	}
	st.Status = "uninstalled"
	s.log.Info(fmt.Sprintf("helm release %s: uninstalled", rf))
	return st, nil
}

// uninstall deletes rel's release and purges its history; with wait it
// then waits until every object it deleted is gone.
func (s *session) uninstall(ctx context.Context, rel *release.Release, wait bool, timeout time.Duration) error {
	rf := ref(s.namespace, rel.Name)
	var targets []goneTarget
	if wait {
		var err error
		if targets, err = s.deletable(ctx, rel); err != nil {
			return outcome(ctx, rf, timeout, err)
		}
	}
	u := action.NewUninstall(s.ac)
	u.IgnoreNotFound = true
	// Helm's own wait for deletion can end before it has seen every object
	// (it skips objects whose status it does not know yet), so only hooks
	// are waited for by Helm; waitGone waits for the objects.
	u.Timeout, u.WaitStrategy, u.WaitOptions = timeout, helmkube.HookOnlyStrategy, waitOptions(ctx)
	u.DeletionPropagation = "background"
	if wait {
		u.DeletionPropagation = "foreground"
	}
	stop := s.track(ctx, rel.Name, timeout, "uninstall (deleting its objects, running its hooks)")
	_, err := u.Run(rel.Name)
	stop()
	if err != nil {
		return outcome(ctx, rf, timeout, err)
	}
	return outcome(ctx, rf, timeout, waitGone(ctx, s.log, rf, targets, timeout))
}
