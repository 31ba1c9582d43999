package chaos

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
	"k8s.io/client-go/dynamic"

	"github.com/cloudify-chaos/chaosops/plugin/chaos/api"
	"github.com/cloudify-chaos/chaosops/plugin/failure"
)

// Names of Chaos Mesh's own workloads (its Helm chart's defaults).
const (
	controllerDeployment = "chaos-controller-manager"
	daemonComponentLabel = "app.kubernetes.io/component=chaos-daemon"
	filterNamespaceEnv   = "ENABLE_FILTER_NAMESPACE"
)

// PreflightReport is what the preflight found.
type PreflightReport struct {
	Kind       string   `json:"kind"`
	Namespace  string   `json:"namespace"`
	TargetPods []string `json:"target_pods"`
	Controller string   `json:"controller"`
	// NamespaceFilter is true when target namespaces must be opted in:
	// the controller filters namespaces, or its setting could not be read.
	NamespaceFilter bool `json:"namespace_filter"`
	// NamespaceFilterSource says where NamespaceFilter comes from.
	NamespaceFilterSource string   `json:"namespace_filter_source,omitempty"`
	Warnings              []string `json:"warnings,omitempty"`
}

// Preflight checks, without creating anything, that a run can work: the
// kind's CRD is installed, the namespaces exist, the selector matches at
// least one Running pod, the Chaos Mesh controller (and chaos-daemon on the
// targets' nodes) is ready, target namespaces are opted in
// (chaos-mesh.org/inject=enabled) when the controller filters namespaces or
// its setting cannot be read, and no earlier run of the same deployment is
// still injected.
func (r *Runner) Preflight(ctx context.Context, opts RunOptions) (*PreflightReport, error) {
	opts.setDefaults()
	if err := opts.Check(); err != nil {
		return nil, err
	}
	obj := opts.Object
	if obj.Namespace == "" {
		obj.Namespace = opts.Namespace
	}
	kind, _ := api.KindNamed(obj.Spec.Kind())
	rep := &PreflightReport{Kind: kind.Name, Namespace: obj.Namespace}
	// Every read starts at once; the checks below take their results in
	// the order of the serial preflight, so the first problem reported is
	// the same, and reads a failed check no longer needs are cancelled.
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	reads := r.startPreflightReads(rctx, opts, kind, obj)
	if _, err := reads.crd.get(); err != nil {
		if apierrors.IsNotFound(err) {
			return rep, precheckf("preflight crd", "the %s CRD is not installed (chaos-mesh.org/v1alpha1); install Chaos Mesh first", kind.Name)
		}
		return rep, fmt.Errorf("preflight: list %s in %s: %w", kind.Name, obj.Namespace, err)
	}
	// A namespace without annotations has a nil map: it is read like any
	// other. unreadable holds the namespaces we may not read.
	nsAnnotations := map[string]map[string]string{}
	unreadable := map[string]bool{}
	for _, ns := range reads.nsOrder {
		u, err := reads.namespaces[ns].get()
		switch {
		case apierrors.IsNotFound(err):
			return rep, precheckf("preflight namespace", "namespace %s does not exist", ns)
		case apierrors.IsForbidden(err):
			unreadable[ns] = true
		case err != nil:
			return rep, fmt.Errorf("preflight: namespace %s: %w", ns, err)
		default:
			nsAnnotations[ns] = u.GetAnnotations()
		}
	}
	nodes, err := matchTargets(obj, rep, reads.pods)
	if err != nil {
		return rep, err
	}
	if err := checkController(opts, rep, nodes, reads.controller, reads.daemons); err != nil {
		return rep, err
	}
	for _, ns := range targetNamespaces(obj) {
		switch {
		case !rep.NamespaceFilter:
			if unreadable[ns] {
				rep.Warnings = append(rep.Warnings, "cannot read namespace "+ns+" (forbidden): opt-in not checked (the controller does not filter namespaces)")
			}
		case unreadable[ns]:
			return rep, precheckf("preflight namespace opt-in", "%s, and namespace %s cannot be read (forbidden) to check its %s annotation; allow get on namespace %s", rep.NamespaceFilterSource, ns, api.InjectAnnotation, ns)
		case nsAnnotations[ns][api.InjectAnnotation] != api.InjectEnabled:
			return rep, precheckf("preflight namespace opt-in", "%s, and namespace %s is not opted in; annotate it: kubectl annotate namespace %s %s=%s", rep.NamespaceFilterSource, ns, ns, api.InjectAnnotation, api.InjectEnabled)
		}
	}
	if err := checkNoActiveRun(opts.Owner, reads.active); err != nil {
		return rep, err
	}
	return rep, nil
}

// read is the result of one API read started in the background.
type read[T any] struct {
	done chan struct{}
	v    T
	err  error
}

// startRead runs f in a goroutine; get waits for its result.
func startRead[T any](f func() (T, error)) *read[T] {
	rd := &read[T]{done: make(chan struct{})}
	go func() {
		defer close(rd.done)
		rd.v, rd.err = f()
	}()
	return rd
}

func (rd *read[T]) get() (T, error) {
	<-rd.done
	return rd.v, rd.err
}

type (
	objectRead = read[*unstructured.Unstructured]
	listRead   = read[*unstructured.UnstructuredList]
)

// preflightReads are the preflight's API reads, all started at once.
type preflightReads struct {
	crd        *listRead
	nsOrder    []string // the namespaces to check, in the order they are reported
	namespaces map[string]*objectRead
	// pods holds the pod list of each target (by index) in each of its
	// namespaces; a target whose selector is invalid has none.
	pods       map[int]map[string]*podRead
	controller *objectRead
	daemons    *podRead // nil with SkipDaemonCheck
	active     []activeRead
}

// podRead is a list of pods read from the API server's cache, and how to
// read it again consistently.
type podRead struct {
	cached *listRead
	fresh  func() (*unstructured.UnstructuredList, error)
}

// get returns the cached list, or with fresh a consistent one.
func (p *podRead) get(fresh bool) (*unstructured.UnstructuredList, error) {
	if fresh {
		return p.fresh()
	}
	return p.cached.get()
}

// activeRead is the list of one kind's objects of the run's deployment.
type activeRead struct {
	kind api.Kind
	list *listRead
}

// startPreflightReads starts every read the preflight's checks need: the
// kind's CRD, the namespaces, the targets' pods, the controller, the
// chaos-daemon pods and the deployment's chaos objects of every kind.
func (r *Runner) startPreflightReads(ctx context.Context, opts RunOptions, kind api.Kind, obj *api.Object) *preflightReads {
	list := func(ri dynamic.ResourceInterface, lo metav1.ListOptions) *listRead {
		return startRead(func() (*unstructured.UnstructuredList, error) { return ri.List(ctx, lo) })
	}
	// Pods change all the time, so a consistent list of them often waits
	// for the API server's watch cache to catch up (up to its 100 ms
	// progress-request period). A list from the cache (resourceVersion
	// "0") answers at once; only a check it fails is read again,
	// consistently, so a refusal never rests on a stale read.
	podList := func(ns, selector string) *podRead {
		ri := r.Dynamic.Resource(gvrPods).Namespace(ns)
		return &podRead{
			cached: list(ri, metav1.ListOptions{LabelSelector: selector, ResourceVersion: "0"}),
			fresh: func() (*unstructured.UnstructuredList, error) {
				return ri.List(ctx, metav1.ListOptions{LabelSelector: selector})
			},
		}
	}
	get := func(ri dynamic.ResourceInterface, name string) *objectRead {
		return startRead(func() (*unstructured.Unstructured, error) { return ri.Get(ctx, name, metav1.GetOptions{}) })
	}
	rd := &preflightReads{
		crd:        list(r.chaos(kind, obj.Namespace), metav1.ListOptions{Limit: 1}),
		namespaces: map[string]*objectRead{},
		pods:       map[int]map[string]*podRead{},
		controller: get(r.Dynamic.Resource(gvrDeployments).Namespace(opts.ChaosNamespace), controllerDeployment),
	}
	for _, ns := range append([]string{obj.Namespace}, targetNamespaces(obj)...) {
		if _, seen := rd.namespaces[ns]; !seen {
			rd.nsOrder = append(rd.nsOrder, ns)
			rd.namespaces[ns] = get(r.Dynamic.Resource(gvrNamespaces), ns)
		}
	}
	for i, t := range obj.Spec.Targets() {
		ls, err := podLabelSelector(t.Selector.Selector)
		if err != nil {
			continue // matchTargets reports it
		}
		rd.pods[i] = map[string]*podRead{}
		for _, ns := range selectorNamespaces(t.Selector.Selector, obj) {
			if _, seen := rd.pods[i][ns]; !seen {
				rd.pods[i][ns] = podList(ns, ls.String())
			}
		}
	}
	if !opts.SkipDaemonCheck {
		rd.daemons = podList(opts.ChaosNamespace, daemonComponentLabel)
	}
	if o := opts.Owner; o.Deployment != "" {
		sel := labels.SelectorFromSet(labels.Set{LabelManagedBy: ManagedBy, LabelDeployment: labelValue(o.Deployment)}).String()
		for _, k := range api.Kinds() {
			rd.active = append(rd.active, activeRead{kind: k, list: list(r.chaos(k, obj.Namespace), metav1.ListOptions{LabelSelector: sel})})
		}
	}
	return rd
}

// selectorNamespaces are where a selector looks for pods: its namespaces,
// or the object's own.
func selectorNamespaces(sel api.PodSelectorSpec, obj *api.Object) []string {
	if len(sel.Namespaces) == 0 {
		return []string{obj.Namespace}
	}
	return sel.Namespaces
}

// matchTargets finds, in the pod lists read, the Running pods the
// selectors match and returns their nodes. A target the cached lists match
// no pod for is looked up again in consistent lists.
func matchTargets(obj *api.Object, rep *PreflightReport, pods map[int]map[string]*podRead) ([]string, error) {
	var nodes []string
	for i, t := range obj.Spec.Targets() {
		sel := t.Selector.Selector
		if _, err := podLabelSelector(sel); err != nil {
			return nil, failure.Invalidf("selector", "%v", err)
		}
		namespaces := selectorNamespaces(sel, obj)
		var matched []*unstructured.Unstructured
		for _, fresh := range []bool{false, true} {
			var err error
			if matched, err = matchPods(sel, namespaces, pods[i], fresh); err == nil && len(matched) > 0 {
				break
			}
			if fresh && err != nil {
				return nil, err
			}
		}
		if len(matched) == 0 {
			return nil, precheckf("preflight selector", "selector %s matches no Running pod in %s", describeSelector(sel), strings.Join(namespaces, ", "))
		}
		for _, p := range matched {
			rep.TargetPods = append(rep.TargetPods, p.GetNamespace()+"/"+p.GetName())
			if n, _, _ := unstructured.NestedString(p.Object, "spec", "nodeName"); n != "" && !slices.Contains(nodes, n) {
				nodes = append(nodes, n)
			}
		}
	}
	return nodes, nil
}

// matchPods are the Running pods of the lists in namespaces that sel
// matches.
func matchPods(sel api.PodSelectorSpec, namespaces []string, pods map[string]*podRead, fresh bool) ([]*unstructured.Unstructured, error) {
	var out []*unstructured.Unstructured
	for _, ns := range namespaces {
		list, err := pods[ns].get(fresh)
		if err != nil {
			return nil, fmt.Errorf("preflight: list pods in %s: %w", ns, err)
		}
		for i := range list.Items {
			if p := &list.Items[i]; podMatches(p, sel) {
				out = append(out, p)
			}
		}
	}
	return out, nil
}

func podLabelSelector(sel api.PodSelectorSpec) (labels.Selector, error) {
	s := labels.SelectorFromSet(sel.LabelSelectors)
	for _, e := range sel.ExpressionSelectors {
		req, err := labels.NewRequirement(e.Key, selection.Operator(strings.ToLower(string(e.Operator))), e.Values)
		if err != nil {
			return nil, err
		}
		s = s.Add(*req)
	}
	return s, nil
}

func podMatches(p *unstructured.Unstructured, sel api.PodSelectorSpec) bool {
	phase, _, _ := unstructured.NestedString(p.Object, "status", "phase")
	if phase != "Running" || p.GetDeletionTimestamp() != nil {
		return false
	}
	if len(sel.Pods) > 0 && !slices.Contains(sel.Pods[p.GetNamespace()], p.GetName()) {
		return false
	}
	ann := p.GetAnnotations()
	for k, v := range sel.AnnotationSelectors {
		if ann[k] != v {
			return false
		}
	}
	node, _, _ := unstructured.NestedString(p.Object, "spec", "nodeName")
	return len(sel.Nodes) == 0 || slices.Contains(sel.Nodes, node)
}

func describeSelector(sel api.PodSelectorSpec) string {
	ls, err := podLabelSelector(sel)
	if err != nil || ls.Empty() {
		return "(all pods)"
	}
	return ls.String()
}

// checkController checks the Chaos Mesh controller Deployment and, unless
// skipped, a Running chaos-daemon pod on every target node, from the
// reads of both.
func checkController(opts RunOptions, rep *PreflightReport, nodes []string, controller *objectRead, daemons *podRead) error {
	d, err := controller.get()
	switch {
	case apierrors.IsNotFound(err):
		return precheckf("preflight controller", "Deployment %s/%s not found: is Chaos Mesh installed in namespace %s?", opts.ChaosNamespace, controllerDeployment, opts.ChaosNamespace)
	case apierrors.IsForbidden(err):
		rep.Warnings = append(rep.Warnings, "cannot read the Chaos Mesh controller (forbidden): readiness not checked, namespace opt-in required")
		rep.NamespaceFilter = true
		rep.NamespaceFilterSource = fmt.Sprintf("the Deployment %s/%s cannot be read (forbidden), so whether Chaos Mesh filters namespaces (%s) is unknown and an opt-in is required", opts.ChaosNamespace, controllerDeployment, filterNamespaceEnv)
		return nil
	case err != nil:
		return fmt.Errorf("preflight: controller: %w", err)
	}
	ready, _, _ := unstructured.NestedInt64(d.Object, "status", "readyReplicas")
	if ready < 1 {
		return precheckf("preflight controller", "Chaos Mesh controller %s/%s has no ready replica", opts.ChaosNamespace, controllerDeployment)
	}
	rep.Controller = fmt.Sprintf("%s/%s (%d ready)", opts.ChaosNamespace, controllerDeployment, ready)
	rep.NamespaceFilter, rep.NamespaceFilterSource = namespaceFilter(d, opts.ChaosNamespace+"/"+controllerDeployment)
	if opts.SkipDaemonCheck {
		return nil
	}
	// The cached list first; a node it shows no daemon on is checked
	// again in a consistent one.
	for _, fresh := range []bool{false, true} {
		pods, err := daemons.get(fresh)
		if err != nil {
			if !fresh {
				continue
			}
			if apierrors.IsForbidden(err) {
				rep.Warnings = append(rep.Warnings, "cannot list chaos-daemon pods (forbidden): daemons not checked")
				return nil
			}
			return fmt.Errorf("preflight: chaos-daemon pods: %w", err)
		}
		missing := daemonMissing(pods, nodes)
		if missing == "" {
			return nil
		}
		if fresh {
			return precheckf("preflight chaos-daemon", "no Running chaos-daemon on node %s, where targets run; check the chaos-daemon DaemonSet in %s", missing, opts.ChaosNamespace)
		}
	}
	return nil
}

// daemonMissing is the first of nodes without a Running chaos-daemon pod
// in pods, or "".
func daemonMissing(pods *unstructured.UnstructuredList, nodes []string) string {
	for _, n := range nodes {
		found := false
		for _, p := range pods.Items {
			node, _, _ := unstructured.NestedString(p.Object, "spec", "nodeName")
			phase, _, _ := unstructured.NestedString(p.Object, "status", "phase")
			found = found || (node == n && phase == "Running")
		}
		if !found {
			return n
		}
	}
	return ""
}

// checkNoActiveRun refuses a run while another run of the same deployment
// still has a chaos object that has not recovered, from the lists of the
// deployment's objects of every kind.
func checkNoActiveRun(o Owner, active []activeRead) error {
	for _, a := range active {
		k := a.kind
		list, err := a.list.get()
		if apierrors.IsNotFound(err) || apierrors.IsForbidden(err) {
			continue // kind not installed, or not ours to see
		}
		if err != nil {
			return fmt.Errorf("preflight: list %s: %w", k.Name, err)
		}
		for _, u := range list.Items {
			if u.GetLabels()[LabelRun] == labelValue(o.RunID) {
				continue // our own object: a retried operation adopts it
			}
			if st, _ := api.ConditionOf(&u, api.ConditionAllRecovered); st != "True" {
				return precheckf("preflight earlier run", "%s of run %s is still injected; wait for it to end or run reap", ref(k.Name, u.GetNamespace(), u.GetName()), u.GetLabels()[LabelRun])
			}
		}
	}
	return nil
}

// namespaceFilter reads from the controller Deployment whether Chaos Mesh
// filters namespaces, as its controller reads ENABLE_FILTER_NAMESPACE
// (pkg/config/controller.go, envconfig: a strconv.ParseBool value, default
// false; the chart sets it from controllerManager.enableFilterNamespace).
// It returns whether an opt-in is required and why. A setting it cannot
// read (valueFrom, envFrom, a value that is not a bool) requires the
// opt-in: failing safe, the preflight refuses rather than waits for a run
// that selects nothing.
func namespaceFilter(d *unstructured.Unstructured, where string) (required bool, source string) {
	containers, _, _ := unstructured.NestedSlice(d.Object, "spec", "template", "spec", "containers")
	envFrom := ""
	for _, c := range containers {
		cm, _ := c.(map[string]any)
		env, _, _ := unstructured.NestedSlice(cm, "env")
		for _, e := range env {
			em, _ := e.(map[string]any)
			if em["name"] != filterNamespaceEnv {
				continue
			}
			if _, ok := em["valueFrom"]; ok {
				return true, fmt.Sprintf("%s of Deployment %s comes from valueFrom, which the preflight does not resolve, so an opt-in is required", filterNamespaceEnv, where)
			}
			v, _ := em["value"].(string)
			on, err := strconv.ParseBool(v)
			if err != nil {
				return true, fmt.Sprintf("%s=%q of Deployment %s is not a bool, so an opt-in is required", filterNamespaceEnv, v, where)
			}
			if on {
				return true, fmt.Sprintf("Chaos Mesh filters namespaces (%s=%s in Deployment %s)", filterNamespaceEnv, v, where)
			}
			return false, fmt.Sprintf("%s=%s in Deployment %s: no opt-in needed", filterNamespaceEnv, v, where)
		}
		if from, _, _ := unstructured.NestedSlice(cm, "envFrom"); len(from) > 0 {
			envFrom, _ = cm["name"].(string)
		}
	}
	if envFrom != "" {
		return true, fmt.Sprintf("container %s of Deployment %s takes its environment from envFrom, which may set %s, so an opt-in is required", envFrom, where, filterNamespaceEnv)
	}
	return false, fmt.Sprintf("%s is not set in Deployment %s (Chaos Mesh's default: false): no opt-in needed", filterNamespaceEnv, where)
}
