package helm

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"

	chart "helm.sh/helm/v4/pkg/chart/v2"
	helmkube "helm.sh/helm/v4/pkg/kube"

	"github.com/cloudify-chaos/chaosops/plugin/kube"
)

// applyCRDs applies the CRDs of the chart's crds/ folders (its own and its
// dependencies') before a first install, in Helm's place: Helm v4 applies
// them server-side, which fails on a CRD whose fields another field manager
// owns. The rules are helm's flags plus Helm 3's rule for existing CRDs:
//
//   - SkipCRDs: none is created or changed;
//   - ForceConflicts: every one is applied with force, taking over the
//     fields that other managers own;
//   - otherwise: only the missing ones are created; existing ones are left
//     as they are, and the log names them and who manages them.
//
// Then it waits until what it applied is established and resets discovery,
// so that the release's templates can use the new kinds. As with Helm, an
// upgrade touches no CRD.
func (s *session) applyCRDs(ctx context.Context, r Release, ch *chart.Chart) error {
	crds := ch.CRDObjects()
	if len(crds) == 0 {
		return nil
	}
	rf := ref(r.Namespace, r.Name)
	if r.SkipCRDs {
		names := make([]string, 0, len(crds))
		for _, c := range crds {
			names = append(names, c.Filename)
		}
		s.log.Info(fmt.Sprintf("helm release %s: skip_crds: not applying the chart's CRD files %s", rf, strings.Join(names, ", ")))
		return nil
	}
	var all helmkube.ResourceList
	for _, c := range crds {
		if c.File == nil || len(c.File.Data) == 0 {
			continue
		}
		res, err := s.ac.KubeClient.Build(bytes.NewReader(c.File.Data), false)
		if err != nil {
			return fmt.Errorf("helm release %s: CRD file %s: %w", rf, c.Filename, err)
		}
		all = append(all, res...)
	}
	missing, existing, err := s.splitExisting(ctx, all)
	if err != nil {
		return fmt.Errorf("helm release %s: %w", rf, err)
	}
	apply := missing
	switch {
	case len(existing) > 0 && r.ForceConflicts:
		apply = all
		s.log.Info(fmt.Sprintf("helm release %s: force_conflicts: taking over %d existing CRDs: %s", rf, len(existing), strings.Join(existing, ", ")))
	case len(existing) > 0:
		s.log.Info(fmt.Sprintf("helm release %s: left %d existing CRDs as they are (Helm's rule; force_conflicts: true takes them over): %s",
			rf, len(existing), strings.Join(existing, ", ")))
	}
	if len(apply) == 0 {
		return nil
	}
	if _, err := s.ac.KubeClient.Create(apply, helmkube.ClientCreateOptionServerSideApply(true, r.ForceConflicts)); err != nil {
		return fmt.Errorf("helm release %s: apply CRDs: %w", rf, err)
	}
	if len(missing) > 0 {
		s.log.Info(fmt.Sprintf("helm release %s: created %d CRDs: %s", rf, len(missing), strings.Join(refs(missing), ", ")))
	}
	kc, ok := s.ac.KubeClient.(helmkube.InterfaceWaitOptions)
	if !ok {
		return fmt.Errorf("helm release %s: the Helm kube client cannot wait with options (%T)", rf, s.ac.KubeClient)
	}
	// CRDs are waited for even without Wait, as Helm does: the templates'
	// custom resources cannot be created before.
	w, err := kc.GetWaiterWithOptions(helmkube.StatusWatcherStrategy, waitOptions(ctx)...)
	if err != nil {
		return fmt.Errorf("helm release %s: %w", rf, err)
	}
	if err := w.Wait(apply, r.Timeout); err != nil {
		return outcome(ctx, rf, r.Timeout, fmt.Errorf("CRDs not established: %w", err))
	}
	s.getter.discovery.Invalidate()
	s.getter.mapper.Reset()
	s.ac.Capabilities = nil
	return nil
}

// splitExisting returns the objects not in the cluster, and the refs of
// those that are, each with its field managers.
func (s *session) splitExisting(ctx context.Context, objs helmkube.ResourceList) (helmkube.ResourceList, []string, error) {
	dyn, err := dynamic.NewForConfig(s.getter.cfg)
	if err != nil {
		return nil, nil, err
	}
	var missing helmkube.ResourceList
	var existing []string
	for _, info := range objs {
		objRef := kube.Ref(info.Mapping.GroupVersionKind.Kind, info.Namespace, info.Name)
		var live *unstructured.Unstructured
		rc := dyn.Resource(info.Mapping.Resource)
		if info.Namespaced() {
			live, err = rc.Namespace(info.Namespace).Get(ctx, info.Name, metav1.GetOptions{})
		} else {
			live, err = rc.Get(ctx, info.Name, metav1.GetOptions{})
		}
		switch {
		case apierrors.IsNotFound(err):
			missing = append(missing, info)
		case err != nil:
			return nil, nil, fmt.Errorf("read %s: %w", objRef, err)
		default:
			existing = append(existing, fmt.Sprintf("%s (managed by %s)", objRef, managers(live)))
		}
	}
	return missing, existing, nil
}

// managers lists the field managers of obj's content, e.g. "kubectl,
// helm"; the API server's own status updates are not content.
func managers(obj *unstructured.Unstructured) string {
	var names []string
	for _, mf := range obj.GetManagedFields() {
		if mf.Subresource == "" && mf.Manager != "" && !slices.Contains(names, mf.Manager) {
			names = append(names, mf.Manager)
		}
	}
	if len(names) == 0 {
		return "no recorded field manager"
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}

// refs returns the kube.Ref of each object.
func refs(objs helmkube.ResourceList) []string {
	out := make([]string, 0, len(objs))
	for _, o := range objs {
		out = append(out, kube.Ref(o.Mapping.GroupVersionKind.Kind, o.Namespace, o.Name))
	}
	return out
}
