package helm

import (
	"context"
	"fmt"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/dynamic"

	release "helm.sh/helm/v4/pkg/release/v1"

	"github.com/cloudify-chaos/chaosops/plugin/kube"
	"github.com/cloudify-chaos/chaosops/plugin/progress"
)

// track logs the progress of a Helm SDK call that waits (install, upgrade,
// uninstall with its hooks) every progress.Interval until the returned stop
// is called: the objects of the release's newest revision that are not
// ready yet, and why, and the time left of timeout. Helm's own waits say
// nothing until they end.
func (s *session) track(ctx context.Context, name string, timeout time.Duration, what string) (stop func()) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	end := progress.Start(ctx, s.log, fmt.Sprintf("helm release %s: %s", ref(s.namespace, name), what), func() []string {
		rel, err := s.ac.Releases.Last(name)
		if err != nil {
			return []string{"release record not readable yet: " + err.Error()}
		}
		r, ok := rel.(*release.Release)
		if !ok {
			return nil
		}
		return s.notReady(ctx, r)
	})
	return func() {
		end()
		cancel()
	}
}

// notReady lists the objects of rel that are missing or not ready, each
// with its kstatus status and reason.
func (s *session) notReady(ctx context.Context, rel *release.Release) []string {
	res, err := s.ac.KubeClient.Build(strings.NewReader(rel.Manifest), false)
	if err != nil {
		return []string{fmt.Sprintf("objects of revision %d not readable: %v", rel.Version, err)}
	}
	dyn, err := dynamic.NewForConfig(s.getter.cfg)
	if err != nil {
		return []string{err.Error()}
	}
	var out []string
	for _, info := range res {
		ns := ""
		if info.Mapping.Scope.Name() == meta.RESTScopeNameNamespace {
			ns = info.Namespace
		}
		ref := kube.Ref(info.Mapping.GroupVersionKind.Kind, ns, info.Name)
		obj, err := dyn.Resource(info.Mapping.Resource).Namespace(ns).Get(ctx, info.Name, metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err):
			out = append(out, ref+": NotFound")
			continue
		case err != nil:
			out = append(out, fmt.Sprintf("%s: cannot read: %v", ref, err))
			continue
		}
		if ready, st, msg := kube.Readiness(obj); !ready {
			out = append(out, kube.ObjectStatus{Ref: ref, Status: st, Message: msg}.String())
		}
	}
	return out
}
