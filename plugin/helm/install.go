package helm

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"time"

	"github.com/cloudify-chaos/chaosops/plugin/failure"
	"k8s.io/client-go/rest"

	"helm.sh/helm/v4/pkg/action"
	chart "helm.sh/helm/v4/pkg/chart/v2"
	helmkube "helm.sh/helm/v4/pkg/kube"
	ri "helm.sh/helm/v4/pkg/release"
	rcommon "helm.sh/helm/v4/pkg/release/common"
	release "helm.sh/helm/v4/pkg/release/v1"
)

const (
	// maxHistory bounds the revisions (Secrets) kept per release, as the
	// helm CLI's upgrade does.
	maxHistory = 10
	// statusWorkers computes resource status off the watch loop, as the helm
	// CLI does, so that a large chart's wait is not serialised.
	statusWorkers = 8
	// staleMargin is added to the timeout to decide that a pending revision
	// was left by a run that no longer works on it (see recoverPending).
	staleMargin = time.Minute
)

// Install converges the release r.Name in r.Namespace to the chart and
// values of r:
//
//  1. check the input and read the chart (for a URL: download, or take from
//     the cache, and check the sha256 first; for a chart repository: read
//     its index, and check the archive against the index's digest);
//     nothing is created before;
//  2. recover a release left pending or half uninstalled by a killed run;
//  3. install when there is no release (first the chart's CRDs, see
//     applyCRDs), change nothing when the newest revision is deployed from
//     the same chart content and values (with Wait, wait for its resources
//     again), upgrade otherwise.
//
// Cancelling ctx stops a download or the wait at once; Helm marks the
// revision failed, and the next Install upgrades it. The returned Status is
// set also on failure when a revision was written.
func Install(ctx context.Context, cfg *rest.Config, r Release, log *slog.Logger) (*Status, error) {
	if err := r.validate(); err != nil {
		return nil, err
	}
	values, err := normalizeValues(r.Values)
	if err != nil {
		return nil, err
	}
	if r.Download.Log == nil {
		r.Download.Log = log
	}
	ch, err := loadChart(ctx, r)
	if err != nil {
		return nil, err
	}
	s, err := newSession(cfg, r.Namespace, log)
	if err != nil {
		return nil, err
	}
	rf := ref(r.Namespace, r.Name)
	hist, err := s.history(r.Name)
	if err != nil {
		return nil, err
	}
	cur, recovered, err := s.recover(ctx, r, hist)
	if err != nil {
		return nil, err
	}
	digest := chartDigest(ch)
	what := fmt.Sprintf("chart %s %s", ch.Metadata.Name, ch.Metadata.Version)
	waitNote := ""
	if r.Wait {
		waitNote = fmt.Sprintf("; waiting up to %s for its resources", r.Timeout)
	}
	var rel *release.Release
	switch {
	case cur == nil:
		s.log.Info(fmt.Sprintf("helm release %s: installing %s%s", rf, what, waitNote))
		if err := s.applyCRDs(ctx, r, ch); err != nil {
			return nil, err
		}
		rel, err = s.install(ctx, r, ch, values, digest)
	case cur.Info.Status == rcommon.StatusDeployed && cur.Labels[digestLabel] == digest && valuesEqual(cur.Config, values):
		s.log.Info(fmt.Sprintf("helm release %s: up to date at revision %d (%s)%s", rf, cur.Version, what, waitNote))
		if r.Wait {
			err = outcome(ctx, rf, r.Timeout, s.waitReady(ctx, cur, r.Timeout))
		}
		return statusOf(cur, recovered, s.resources(cur)), err
	default:
		s.log.Info(fmt.Sprintf("helm release %s: upgrading revision %d (%s, %s) to %s because %s%s", rf, cur.Version, cur.Info.Status,
			chartName(cur.Chart), what, upgradeReason(cur, digest, values), waitNote))
		rel, err = s.upgrade(ctx, r, ch, values, digest)
	}
	if rel == nil {
		return nil, outcome(ctx, rf, r.Timeout, err)
	}
	st := statusOf(rel, true, s.resources(rel))
	if err == nil {
		s.log.Info(fmt.Sprintf("helm release %s: revision %d %s", rf, st.Revision, st.Status))
	}
	return st, outcome(ctx, rf, r.Timeout, err)
}

func (s *session) install(ctx context.Context, r Release, ch *chart.Chart, values map[string]any, digest string) (*release.Release, error) {
	i := action.NewInstall(s.ac)
	i.ReleaseName, i.Namespace, i.CreateNamespace = r.Name, r.Namespace, r.CreateNamespace
	i.Timeout, i.WaitStrategy, i.WaitForJobs, i.WaitOptions = r.Timeout, strategy(r.Wait), r.Wait, waitOptions(ctx)
	i.Labels = map[string]string{digestLabel: digest}
	// applyCRDs has dealt with the chart's crds/ by our rules.
	i.SkipCRDs, i.ForceConflicts = true, r.ForceConflicts
	defer s.track(ctx, r.Name, r.Timeout, "install")()
	return asRelease(i.RunWithContext(ctx, ch, values))
}

func (s *session) upgrade(ctx context.Context, r Release, ch *chart.Chart, values map[string]any, digest string) (*release.Release, error) {
	u := action.NewUpgrade(s.ac)
	u.Namespace = r.Namespace
	u.Timeout, u.WaitStrategy, u.WaitForJobs, u.WaitOptions = r.Timeout, strategy(r.Wait), r.Wait, waitOptions(ctx)
	// The values given are the whole truth: never merged with the last
	// revision's (helm's default when none are given).
	u.ResetValues = true
	u.MaxHistory = maxHistory
	u.Labels = map[string]string{digestLabel: digest}
	u.ForceConflicts = r.ForceConflicts
	defer s.track(ctx, r.Name, r.Timeout, "upgrade")()
	return asRelease(u.RunWithContext(ctx, r.Name, ch, values))
}

// waitReady waits for the resources of a deployed revision.
func (s *session) waitReady(ctx context.Context, rel *release.Release, timeout time.Duration) error {
	res, err := s.ac.KubeClient.Build(strings.NewReader(rel.Manifest), false)
	if err != nil {
		return err
	}
	kc, ok := s.ac.KubeClient.(helmkube.InterfaceWaitOptions)
	if !ok {
		return fmt.Errorf("the Helm kube client cannot wait with options (%T)", s.ac.KubeClient)
	}
	w, err := kc.GetWaiterWithOptions(helmkube.StatusWatcherStrategy, waitOptions(ctx)...)
	if err != nil {
		return err
	}
	defer s.track(ctx, rel.Name, timeout, "wait for its resources")()
	return w.WaitWithJobs(res, timeout)
}

// strategy maps Wait to Helm's: kstatus watches, or only hooks.
func strategy(wait bool) helmkube.WaitStrategy {
	if wait {
		return helmkube.StatusWatcherStrategy
	}
	return helmkube.HookOnlyStrategy
}

// waitOptions makes every Helm wait (resources, hooks, CRDs, deletion) end
// when ctx does; Helm's own default is an uncancellable background context.
func waitOptions(ctx context.Context) []helmkube.WaitOption {
	return []helmkube.WaitOption{helmkube.WithWaitContext(ctx), helmkube.WithStatusComputeWorkers(statusWorkers)}
}

func asRelease(r ri.Releaser, err error) (*release.Release, error) {
	rel, _ := r.(*release.Release)
	return rel, err
}

// normalizeValues returns a deep copy of v as JSON would give it back
// (numbers as float64), the form Helm stores, so that stored and given
// values compare equal; Helm can also not change the caller's map.
func normalizeValues(v map[string]any) (map[string]any, error) {
	out := map[string]any{}
	if len(v) == 0 {
		return out, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, failure.Invalidf("values", "cannot be stored as JSON: %v", err)
	}
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, failure.Invalidf("values", "cannot be stored as JSON: %v", err)
	}
	return out, nil
}

// valuesEqual compares stored and given values; nil and empty are equal.
func valuesEqual(stored, given map[string]any) bool {
	s, err := normalizeValues(stored)
	if err != nil {
		return false
	}
	return reflect.DeepEqual(s, given)
}

// upgradeReason says why a revision is upgraded, for the log.
func upgradeReason(cur *release.Release, digest string, values map[string]any) string {
	var why []string
	if cur.Info.Status != rcommon.StatusDeployed {
		why = append(why, "its status is "+cur.Info.Status.String())
	}
	if cur.Labels[digestLabel] != digest {
		why = append(why, "the chart changed")
	}
	if !valuesEqual(cur.Config, values) {
		why = append(why, "the values changed")
	}
	return strings.Join(why, ", ")
}

func chartName(ch *chart.Chart) string {
	if ch == nil || ch.Metadata == nil {
		return "unknown chart"
	}
	return ch.Metadata.Name + " " + ch.Metadata.Version
}
