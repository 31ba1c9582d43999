package helm

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"

	release "helm.sh/helm/v4/pkg/release/v1"

	"github.com/cloudify-chaos/chaosops/plugin/kube"
	"github.com/cloudify-chaos/chaosops/plugin/progress"
)

// Annotations Helm reads on a release's objects.
const (
	resourcePolicyAnno   = "helm.sh/resource-policy"
	releaseNameAnno      = "meta.helm.sh/release-name"
	releaseNamespaceAnno = "meta.helm.sh/release-namespace"
)

// goneTarget is one object an uninstall deletes.
type goneTarget struct {
	ref string
	ri  dynamic.ResourceInterface
	// name and uid identify the object; one recreated by a controller under
	// the same name counts as gone.
	name string
	uid  types.UID
}

// deletable lists the objects of rel that Helm's uninstall deletes: those
// of its manifest that exist, carry this release's ownership annotations,
// and are not marked helm.sh/resource-policy: keep.
func (s *session) deletable(ctx context.Context, rel *release.Release) ([]goneTarget, error) {
	res, err := s.ac.KubeClient.Build(strings.NewReader(rel.Manifest), false)
	if err != nil {
		return nil, fmt.Errorf("read the objects of revision %d: %w", rel.Version, err)
	}
	dyn, err := dynamic.NewForConfig(s.getter.cfg)
	if err != nil {
		return nil, err
	}
	var out []goneTarget
	for _, info := range res {
		if a, err := meta.Accessor(info.Object); err == nil && a.GetAnnotations()[resourcePolicyAnno] == "keep" {
			continue
		}
		ns := ""
		if info.Mapping.Scope.Name() == meta.RESTScopeNameNamespace {
			ns = info.Namespace
		}
		ri := dyn.Resource(info.Mapping.Resource).Namespace(ns)
		obj, err := ri.Get(ctx, info.Name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			continue
		}
		ref := kube.Ref(info.Mapping.GroupVersionKind.Kind, ns, info.Name)
		if err != nil {
			return nil, fmt.Errorf("%s: get: %w", ref, err)
		}
		if an := obj.GetAnnotations(); an[releaseNameAnno] != rel.Name || an[releaseNamespaceAnno] != rel.Namespace {
			continue // Helm leaves what the release does not own
		}
		out = append(out, goneTarget{ref: ref, ri: ri, name: info.Name, uid: obj.GetUID()})
	}
	return out, nil
}

// waitGone waits until every target is deleted, polling with a backoff up
// to 2 s; a handful of objects makes watches not worth their setup. It
// logs the objects left every progress.Interval. On timeout the error
// lists each object left and the finalizers holding it.
func waitGone(ctx context.Context, log *slog.Logger, rf string, targets []goneTarget, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var mu sync.Mutex
	last := make([]string, 0, len(targets))
	for _, t := range targets {
		last = append(last, t.ref+" (not read yet)")
	}
	stop := progress.Start(ctx, log, fmt.Sprintf("helm release %s: wait for %d object(s) to be deleted", rf, len(targets)), func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), last...)
	})
	defer stop()
	backoff := 100 * time.Millisecond
	for {
		var left []string
		for _, t := range targets {
			obj, err := t.ri.Get(ctx, t.name, metav1.GetOptions{})
			switch {
			case apierrors.IsNotFound(err) || (err == nil && obj.GetUID() != t.uid):
			case err != nil: // asked again at the next round
				left = append(left, fmt.Sprintf("%s (%v)", t.ref, err))
			case len(obj.GetFinalizers()) > 0:
				left = append(left, fmt.Sprintf("%s (finalizers: %s)", t.ref, strings.Join(obj.GetFinalizers(), ", ")))
			default:
				left = append(left, t.ref)
			}
		}
		if len(left) == 0 {
			return nil
		}
		mu.Lock()
		last = left
		mu.Unlock()
		select {
		case <-ctx.Done():
			// outcome tells a cancel from the timeout by the caller's ctx.
			return fmt.Errorf("%d object(s) still present: %s: %w", len(left), strings.Join(left, "; "), ctx.Err())
		case <-time.After(backoff):
			backoff = min(backoff*2, 2*time.Second)
		}
	}
}
