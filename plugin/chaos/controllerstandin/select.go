package controllerstandin

import (
	"context"
	"errors"
	"fmt"

	"github.com/cloudify-chaos/chaosops/plugin/chaos/api"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// errNoPodSelected is Chaos Mesh's error when the selector matches no pod.
var errNoPodSelected = errors.New("no pod is selected")

// selectTargets returns the record ids of target t of obj: the matching
// pods (listed from the API server, not a cache), narrowed by mode and value.
// Like Chaos Mesh, it does not look at the pods' phase unless the selector
// has podPhaseSelectors.
func (c *controller) selectTargets(ctx context.Context, obj *api.Object, t api.Target) ([]string, error) {
	spec := t.Selector.Selector
	if len(spec.Namespaces) == 0 {
		// What Chaos Mesh's defaulting webhook writes into the object.
		spec.Namespaces = []string{obj.Namespace}
	}
	pods, err := c.listPods(ctx, spec)
	if err != nil {
		return nil, err
	}
	if len(pods) == 0 {
		return nil, errNoPodSelected
	}
	chosen, err := pick(t.Selector.Mode, t.Selector.Value, len(pods), c.intn)
	if err != nil {
		return nil, err
	}
	selected := make([]corev1.Pod, len(chosen))
	for i, idx := range chosen {
		selected[i] = pods[idx]
	}
	return recordIDs(t, selected), nil
}

// listPods lists the pods spec selects, in the API server's order.
func (c *controller) listPods(ctx context.Context, spec api.PodSelectorSpec) ([]corev1.Pod, error) {
	allowed := map[string]bool{}
	eligible := func(ns string) bool {
		if !c.opts.NamespaceFilter {
			return true
		}
		ok, seen := allowed[ns]
		if !seen {
			n, err := c.kube.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
			if err != nil {
				// Chaos Mesh logs the error and skips the namespace.
				c.log.Warn("namespace filter", "namespace", ns, "err", err)
				return false
			}
			ok = n.Annotations[api.InjectAnnotation] == api.InjectEnabled
			allowed[ns] = ok
		}
		return ok
	}

	// Explicitly named pods bypass every other criterion, as in Chaos Mesh.
	if len(spec.Pods) > 0 {
		var pods []corev1.Pod
		for ns, names := range spec.Pods {
			if !eligible(ns) {
				continue
			}
			for _, name := range names {
				p, err := c.kube.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{})
				if apierrors.IsNotFound(err) {
					continue
				}
				if err != nil {
					return nil, err
				}
				pods = append(pods, *p)
			}
		}
		return pods, nil
	}

	nodes, err := c.resolveNodes(ctx, spec)
	if err != nil {
		return nil, err
	}
	filter, err := newPodFilter(spec, nodes)
	if err != nil {
		return nil, err
	}
	var pods []corev1.Pod
	for _, ns := range spec.Namespaces {
		if !eligible(ns) {
			continue
		}
		list, err := c.kube.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: filter.labels.String()})
		if err != nil {
			return nil, fmt.Errorf("list pods in %s: %w", ns, err)
		}
		for i := range list.Items {
			if filter.match(&list.Items[i]) {
				pods = append(pods, list.Items[i])
			}
		}
	}
	return pods, nil
}

// resolveNodes returns the names of the nodes named by spec.Nodes (which
// must exist) and matched by spec.NodeSelectors.
func (c *controller) resolveNodes(ctx context.Context, spec api.PodSelectorSpec) ([]string, error) {
	var names []string
	for _, n := range spec.Nodes {
		node, err := c.kube.CoreV1().Nodes().Get(ctx, n, metav1.GetOptions{})
		if err != nil {
			return nil, err
		}
		names = append(names, node.Name)
	}
	if len(spec.NodeSelectors) > 0 {
		list, err := c.kube.CoreV1().Nodes().List(ctx, metav1.ListOptions{
			LabelSelector: labels.SelectorFromSet(spec.NodeSelectors).String(),
		})
		if err != nil {
			return nil, err
		}
		for _, n := range list.Items {
			names = append(names, n.Name)
		}
	}
	return names, nil
}
