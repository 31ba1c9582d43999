package grafana

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"path"
	"slices"
	"sort"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/yaml"

	"github.com/cloudify-chaos/chaosops/plugin/failure"
	"github.com/cloudify-chaos/chaosops/plugin/kube"
	"github.com/cloudify-chaos/chaosops/plugin/kube/manifest"
)

// Defaults of DashboardOptions: where kube-prometheus' Grafana takes its
// dashboards from. That Grafana has no sidecar; its file provider "0"
// (ConfigMap grafana-dashboards) reads DefaultFolder recursively, and each
// dashboard ConfigMap is mounted into a subfolder of it.
const (
	DefaultNamespace    = "monitoring"
	DefaultDeployment   = "grafana"
	DefaultContainer    = "grafana"
	DefaultFolder       = "/grafana-dashboard-definitions/0"
	DefaultFieldManager = "chaosops-grafana-dashboards"
)

// providersDir is where Grafana reads its dashboard provider files: its
// default paths.provisioning plus /dashboards.
const providersDir = "/etc/grafana/provisioning/dashboards"

var (
	deploymentsGVR = schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}
	configMapsGVR  = schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}
)

// DashboardOptions says which Grafana gets the dashboards and how. The
// zero value targets kube-prometheus' Grafana. Errors about a field name
// it as the operation input that sets it (grafana_namespace, ...).
type DashboardOptions struct {
	// Namespace is Grafana's; the dashboard ConfigMaps are applied there
	// too, since a pod can only mount ConfigMaps of its own namespace.
	// Default DefaultNamespace.
	Namespace string
	// Deployment is Grafana's Deployment; default DefaultDeployment.
	Deployment string
	// Container is the Grafana container of that Deployment; default
	// DefaultContainer.
	Container string
	// Folder is a folder that one of Grafana's file providers reads
	// (options.path in its provider file); each ConfigMap is mounted at
	// Folder/<ConfigMap name>. Default DefaultFolder.
	Folder string
	// FieldManager owns the volumes and mounts added to the Deployment,
	// and nothing else of it; default DefaultFieldManager. Give every
	// installation its own: an install under the same manager replaces
	// the mounts of the previous one.
	FieldManager string
	// Wait waits until Grafana's Deployment has rolled out with the mounts.
	Wait bool
	// Timeout bounds each wait; default kube.DefaultTimeout.
	Timeout time.Duration
	// Previous is the Installation of the last InstallDashboards, if any:
	// its ConfigMaps that are no longer given are unmounted and deleted.
	Previous *Installation
	// Log receives progress; nil discards.
	Log *slog.Logger
}

// Validate checks the options without contacting the cluster, so bad
// input fails before anything connects.
func (o DashboardOptions) Validate() error {
	_, err := o.withDefaults()
	return err
}

func (o DashboardOptions) withDefaults() (DashboardOptions, error) {
	def := func(s *string, v string) {
		if *s == "" {
			*s = v
		}
	}
	def(&o.Namespace, DefaultNamespace)
	def(&o.Deployment, DefaultDeployment)
	def(&o.Container, DefaultContainer)
	def(&o.Folder, DefaultFolder)
	def(&o.FieldManager, DefaultFieldManager)
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Timeout == 0 {
		o.Timeout = kube.DefaultTimeout
	}
	bad := func(field, format string, args ...any) error {
		return &failure.InvalidError{Field: field, Err: fmt.Errorf(format, args...)}
	}
	switch {
	case len(validation.IsDNS1123Label(o.Namespace)) > 0:
		return o, bad("grafana_namespace", "%q is not a namespace name (lowercase letters, digits and '-'); use e.g. %s", o.Namespace, DefaultNamespace)
	case len(validation.IsDNS1123Subdomain(o.Deployment)) > 0:
		return o, bad("grafana_deployment", "%q is not a Deployment name; use e.g. %s", o.Deployment, DefaultDeployment)
	case len(validation.IsDNS1123Label(o.Container)) > 0:
		return o, bad("grafana_container", "%q is not a container name; use e.g. %s", o.Container, DefaultContainer)
	case !path.IsAbs(o.Folder) || path.Clean(o.Folder) != o.Folder || o.Folder == "/":
		return o, bad("dashboards_folder", "%q is not a clean absolute folder below /; use the path of a Grafana file provider, e.g. %s", o.Folder, DefaultFolder)
	case o.FieldManager == kube.FieldManager:
		return o, bad("field manager", "%q applied Grafana's whole Deployment; the mounts need a manager of their own, e.g. %s", o.FieldManager, DefaultFieldManager)
	case o.Timeout < 0:
		return o, bad("timeout", "%s is negative; use e.g. 5m", o.Timeout)
	}
	return o, nil
}

// Installation is what InstallDashboards put into the cluster: what the
// next InstallDashboards and UninstallDashboards need. Callers store it
// as JSON.
type Installation struct {
	// FieldManager owns the mounts in Grafana's Deployment.
	FieldManager string `json:"fieldManager"`
	// ConfigMaps are the dashboard ConfigMaps applied.
	ConfigMaps kube.Inventory `json:"configMaps"`
	// Grafana is Grafana's Deployment, carrying our mounts.
	Grafana kube.Inventory `json:"grafana"`
	// Mounts lists the mount paths added to the Grafana container.
	Mounts []string `json:"mounts,omitempty"`
}

// Empty reports whether nothing is left to uninstall.
func (i Installation) Empty() bool { return i.ConfigMaps.Len() == 0 && i.Grafana.Len() == 0 }

// DashboardsResult is what InstallDashboards or UninstallDashboards did;
// returned with the error too.
type DashboardsResult struct {
	// ChangeSet has one entry per ConfigMap and one for Grafana's
	// Deployment (configured: mounts added or removed).
	ChangeSet kube.ChangeSet `json:"changeSet"`
	// Installation is what to store: after an install, what is in place;
	// after an uninstall, what is left (empty when done).
	Installation Installation `json:"installation"`
}

// PlanDashboards checks dashboards and opts as InstallDashboards would and
// returns the Installation it is about to make, without writing anything.
// Store it before calling InstallDashboards, so that an uninstall finds
// what a killed install left.
func PlanDashboards(ctx context.Context, c *kube.Client, dashboards []manifest.Object, opts DashboardOptions) (Installation, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return Installation{}, err
	}
	plan := opts.previous()
	cms, err := checkDashboards(dashboards, opts.Namespace)
	if err != nil {
		return plan, err
	}
	inv, err := kube.NewManager(c, opts.Log).Plan(ctx, cms, kube.ApplyOptions{DefaultNamespace: opts.Namespace, Inventory: &plan.ConfigMaps})
	if err != nil {
		return plan, err
	}
	plan.ConfigMaps = inv
	plan.Grafana = mergeEntries(plan.Grafana, kube.InventoryEntry{Group: "apps", Version: "v1", Kind: "Deployment", Namespace: opts.Namespace, Name: opts.Deployment})
	return plan, nil
}

// previous returns a copy of opts.Previous (or a new Installation) under
// the options' field manager, unless the previous one had its own.
func (o DashboardOptions) previous() Installation {
	inst := Installation{FieldManager: o.FieldManager, ConfigMaps: kube.Inventory{Entries: []kube.InventoryEntry{}}, Grafana: kube.Inventory{Entries: []kube.InventoryEntry{}}}
	if o.Previous != nil {
		inst.ConfigMaps.Entries = append(inst.ConfigMaps.Entries, o.Previous.ConfigMaps.Entries...)
		inst.Grafana.Entries = append(inst.Grafana.Entries, o.Previous.Grafana.Entries...)
		inst.Mounts = slices.Clone(o.Previous.Mounts)
		if o.Previous.FieldManager != "" {
			inst.FieldManager = o.Previous.FieldManager
		}
	}
	return inst
}

// InstallDashboards makes Grafana load dashboards from ConfigMaps:
//
//  1. checks that every object is a ConfigMap holding *.json dashboards in
//     Grafana's namespace, that Grafana's Deployment has the container,
//     and that one of its file providers reads Folder;
//  2. applies the ConfigMaps (field manager chaosops);
//  3. patches Grafana's Deployment under opts.FieldManager with one
//     configMap volume per ConfigMap and its mount at Folder/<name> in the
//     container: a server-side apply of only those fields, so the rest of
//     the Deployment keeps its owner, and re-applying kube-prometheus
//     keeps the mounts;
//  4. unmounts and deletes the ConfigMaps of opts.Previous no longer given;
//  5. with Wait, waits for Grafana's rollout.
//
// Running it again with the same input changes nothing.
func InstallDashboards(ctx context.Context, c *kube.Client, dashboards []manifest.Object, opts DashboardOptions) (*DashboardsResult, error) {
	res := &DashboardsResult{ChangeSet: kube.ChangeSet{Entries: []kube.ChangeSetEntry{}}}
	opts, err := opts.withDefaults()
	res.Installation = opts.previous()
	if err != nil {
		return res, err
	}
	cms, err := checkDashboards(dashboards, opts.Namespace)
	if err != nil {
		return res, err
	}
	if err := checkGrafana(ctx, c, opts); err != nil {
		return res, err
	}
	m := kube.NewManager(c, opts.Log)
	applied, err := m.Apply(ctx, cms, kube.ApplyOptions{DefaultNamespace: opts.Namespace, Inventory: &res.Installation.ConfigMaps, Timeout: opts.Timeout})
	if applied != nil {
		res.ChangeSet.Entries = append(res.ChangeSet.Entries, applied.ChangeSet.Entries...)
		res.Installation.ConfigMaps = applied.Inventory
	}
	if err != nil {
		return res, err
	}

	names := make([]string, len(cms))
	for i, cm := range cms {
		names[i] = cm.GetName()
	}
	patch, mounts := mountPatch(opts, names)
	patched, err := m.Patch(ctx, []manifest.Object{patch}, kube.PatchOptions{FieldManager: res.Installation.FieldManager, Timeout: opts.Timeout})
	res.ChangeSet.Entries = append(res.ChangeSet.Entries, patched.ChangeSet.Entries...)
	if err != nil {
		return res, err
	}
	res.Installation.Grafana = patched.Inventory
	res.Installation.Mounts = mounts
	opts.Log.Info(fmt.Sprintf("%s mounts %s", kube.Ref("Deployment", opts.Namespace, opts.Deployment), strings.Join(mounts, ", ")))

	// Only now that Grafana no longer mounts them may the ConfigMaps that
	// left the input go: a pod cannot start with a missing ConfigMap volume.
	if stale := staleConfigMaps(res.Installation.ConfigMaps, cms); len(stale.Entries) > 0 {
		del, err := m.Delete(ctx, kube.DeleteOptions{Inventory: &stale, Timeout: opts.Timeout})
		if del != nil {
			res.ChangeSet.Entries = append(res.ChangeSet.Entries, del.ChangeSet.Entries...)
			res.Installation.ConfigMaps = withoutDeleted(res.Installation.ConfigMaps, stale, del.Inventory)
		}
		if err != nil {
			return res, err
		}
	}
	if opts.Wait {
		if err := m.Wait(ctx, res.Installation.Grafana, kube.WaitOptions{Timeout: opts.Timeout}); err != nil {
			return res, err
		}
	}
	return res, nil
}

// UninstallOptions tunes UninstallDashboards.
type UninstallOptions struct {
	// Wait waits until Grafana's Deployment has rolled out without the
	// mounts.
	Wait bool
	// Timeout bounds each wait; default kube.DefaultTimeout.
	Timeout time.Duration
	// Log receives progress; nil discards.
	Log *slog.Logger
}

// UninstallDashboards takes out what InstallDashboards put in: it releases
// the volumes and mounts inst.FieldManager owns in Grafana's Deployment
// (see kube.Manager.Unpatch: the fields no other manager owns are
// removed, the rest of the Deployment is untouched), optionally waits for
// the rollout, then deletes the ConfigMaps and waits until they are gone.
// What is already gone counts as done, so it can be repeated.
func UninstallDashboards(ctx context.Context, c *kube.Client, inst Installation, opts UninstallOptions) (*DashboardsResult, error) {
	res := &DashboardsResult{ChangeSet: kube.ChangeSet{Entries: []kube.ChangeSetEntry{}}, Installation: inst}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if opts.Timeout < 0 {
		return res, &failure.InvalidError{Field: "timeout", Err: fmt.Errorf("%s is negative; use e.g. 5m", opts.Timeout)}
	}
	if inst.Grafana.Len() > 0 && inst.FieldManager == "" {
		return res, &failure.InvalidError{Field: "installation", Err: errors.New("names no field manager, so the mounts it owns cannot be found")}
	}
	m := kube.NewManager(c, opts.Log)
	if inst.Grafana.Len() > 0 {
		un, err := m.Unpatch(ctx, inst.Grafana, kube.PatchOptions{FieldManager: inst.FieldManager, Wait: opts.Wait, Timeout: opts.Timeout})
		res.ChangeSet.Entries = append(res.ChangeSet.Entries, un.ChangeSet.Entries...)
		res.Installation.Grafana = un.Inventory
		if err != nil {
			return res, err
		}
		res.Installation.Mounts = nil
	}
	if inst.ConfigMaps.Len() > 0 {
		del, err := m.Delete(ctx, kube.DeleteOptions{Inventory: &inst.ConfigMaps, Timeout: opts.Timeout})
		if del != nil {
			res.ChangeSet.Entries = append(res.ChangeSet.Entries, del.ChangeSet.Entries...)
			res.Installation.ConfigMaps = kube.Inventory{Entries: append([]kube.InventoryEntry{}, del.Inventory.Entries...)}
		}
		if err != nil {
			return res, err
		}
	}
	return res, nil
}

// checkDashboards returns the ConfigMaps with their namespace set, or an
// error naming every object that cannot be a mounted dashboard.
func checkDashboards(objs []manifest.Object, ns string) ([]manifest.Object, error) {
	if len(objs) == 0 {
		return nil, &failure.InvalidError{Field: "dashboards", Err: errors.New("none given; give ConfigMaps holding dashboards as <name>.json keys, e.g. manifests/grafana/chaosops-dashboard-configmap.yaml")}
	}
	out := make([]manifest.Object, 0, len(objs))
	var errs []error
	for _, o := range objs {
		o.Unstructured = o.DeepCopy()
		if o.GetNamespace() == "" {
			o.SetNamespace(ns)
		}
		fail := func(format string, args ...any) {
			errs = append(errs, &kube.ObjectError{Ref: kube.Ref(o.GetKind(), o.GetNamespace(), o.GetName()), Origin: o.Origin(), Op: "check",
				Err: &failure.InvalidError{Err: fmt.Errorf(format, args...)}})
		}
		switch {
		case o.GroupVersionKind() != (schema.GroupVersionKind{Version: "v1", Kind: "ConfigMap"}):
			fail("is not a v1 ConfigMap; Grafana's Deployment can only mount ConfigMaps")
			continue
		case o.GetNamespace() != ns:
			fail("is in namespace %s; Grafana's Deployment is in %s and a pod can only mount ConfigMaps of its own namespace", o.GetNamespace(), ns)
			continue
		case len(validation.IsDNS1123Label(o.GetName())) > 0:
			fail("the name is also the volume's, so it must be a DNS label (at most 63 lowercase letters, digits and '-')")
			continue
		}
		data, _, _ := unstructured.NestedStringMap(o.Object, "data")
		found := 0
		for key, text := range data {
			if !strings.HasSuffix(key, ".json") {
				continue
			}
			var d map[string]any
			if err := json.Unmarshal([]byte(text), &d); err != nil {
				fail("data key %s is not a JSON object: %v", key, err)
				found = -1
				break
			}
			found++
		}
		if found == 0 {
			fail("has no data key ending in .json; Grafana's file provider only reads *.json files")
		}
		out = append(out, o)
	}
	return out, errors.Join(errs...)
}

// checkGrafana makes sure the Deployment exists with the container, and
// that Folder is read by one of the file providers Grafana loads, so the
// dashboards will show up rather than lie in a folder nobody reads.
func checkGrafana(ctx context.Context, c *kube.Client, opts DashboardOptions) error {
	ref := kube.Ref("Deployment", opts.Namespace, opts.Deployment)
	dep, err := c.Dynamic.Resource(deploymentsGVR).Namespace(opts.Namespace).Get(ctx, opts.Deployment, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return &kube.ObjectError{Ref: ref, Op: "get", Err: &failure.InvalidError{Err: errors.New("not found; install Grafana first (kube-prometheus), or set grafana_namespace and grafana_deployment to yours")}}
	}
	if err != nil {
		return &kube.ObjectError{Ref: ref, Op: "get", Err: err}
	}
	spec, _, _ := unstructured.NestedMap(dep.Object, "spec", "template", "spec")
	var container map[string]any
	var names []string
	for _, item := range list(spec["containers"]) {
		names = append(names, str(item["name"]))
		if str(item["name"]) == opts.Container {
			container = item
		}
	}
	if container == nil {
		return &kube.ObjectError{Ref: ref, Op: "check", Err: &failure.InvalidError{Field: "grafana_container",
			Err: fmt.Errorf("the Deployment has no container %q (it has %s); set grafana_container to Grafana's", opts.Container, strings.Join(names, ", "))}}
	}
	paths, where, err := providerPaths(ctx, c, opts.Namespace, spec, container)
	if err != nil {
		return &kube.ObjectError{Ref: ref, Op: "check", Err: err}
	}
	if paths == nil {
		opts.Log.Warn(fmt.Sprintf("%s: cannot see which folders Grafana's dashboard providers read (%s); mounting into %s unchecked", ref, where, opts.Folder))
		return nil
	}
	for _, p := range paths {
		if opts.Folder == p || strings.HasPrefix(opts.Folder, strings.TrimSuffix(p, "/")+"/") {
			return nil
		}
	}
	return &kube.ObjectError{Ref: ref, Op: "check", Err: &failure.InvalidError{Field: "dashboards_folder",
		Err: fmt.Errorf("%s is not read by any file provider of Grafana (%s reads %s); set dashboards_folder to one of those", opts.Folder, where, strings.Join(paths, ", "))}}
}

// providerPaths returns the folders of the file providers in the
// ConfigMap mounted at Grafana's provider folder, and names that
// ConfigMap. paths is nil when they cannot be known (no such mount, not a
// ConfigMap); where then says why.
func providerPaths(ctx context.Context, c *kube.Client, ns string, spec, container map[string]any) (paths []string, where string, err error) {
	volume := ""
	for _, vm := range list(container["volumeMounts"]) {
		if path.Clean(str(vm["mountPath"])) == providersDir && str(vm["subPath"]) == "" {
			volume = str(vm["name"])
		}
	}
	if volume == "" {
		return nil, "nothing is mounted at " + providersDir, nil
	}
	cmName := ""
	for _, v := range list(spec["volumes"]) {
		if str(v["name"]) == volume {
			cm, _ := v["configMap"].(map[string]any)
			cmName = str(cm["name"])
		}
	}
	if cmName == "" {
		return nil, "volume " + volume + " at " + providersDir + " is not a ConfigMap", nil
	}
	where = kube.Ref("ConfigMap", ns, cmName)
	cm, err := c.Dynamic.Resource(configMapsGVR).Namespace(ns).Get(ctx, cmName, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, where + " does not exist", nil
	}
	if err != nil {
		return nil, where, fmt.Errorf("read %s: %w", where, err)
	}
	data, _, _ := unstructured.NestedStringMap(cm.Object, "data")
	keys := make([]string, 0, len(data))
	for k := range data {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	paths = []string{}
	for _, k := range keys {
		if !strings.HasSuffix(k, ".yaml") && !strings.HasSuffix(k, ".yml") && !strings.HasSuffix(k, ".json") {
			continue
		}
		// Grafana reads provider files as YAML, of which JSON is a subset.
		var file struct {
			Providers []struct {
				Type    string `json:"type"`
				Options struct {
					Path string `json:"path"`
				} `json:"options"`
			} `json:"providers"`
		}
		if err := yaml.Unmarshal([]byte(data[k]), &file); err != nil {
			return nil, where, fmt.Errorf("%s key %s is not a provider file: %w", where, k, err)
		}
		for _, p := range file.Providers {
			if (p.Type == "" || p.Type == "file") && p.Options.Path != "" {
				paths = append(paths, path.Clean(p.Options.Path))
			}
		}
	}
	return paths, where, nil
}

// mountPatch is the partial Deployment adding a configMap volume and a
// read-only mount at Folder/<name> for each ConfigMap. Volume names are
// the ConfigMaps' names, as kube-prometheus names its own.
func mountPatch(opts DashboardOptions, configMaps []string) (manifest.Object, []string) {
	volumes := make([]any, 0, len(configMaps))
	mounts := make([]any, 0, len(configMaps))
	paths := make([]string, 0, len(configMaps))
	for _, name := range configMaps {
		p := path.Join(opts.Folder, name)
		volumes = append(volumes, map[string]any{"name": name, "configMap": map[string]any{"name": name}})
		mounts = append(mounts, map[string]any{"name": name, "mountPath": p, "readOnly": true})
		paths = append(paths, p)
	}
	obj := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apps/v1",
		"kind":       "Deployment",
		"metadata":   map[string]any{"name": opts.Deployment, "namespace": opts.Namespace},
		"spec": map[string]any{"template": map[string]any{"spec": map[string]any{
			"containers": []any{map[string]any{"name": opts.Container, "volumeMounts": mounts}},
			"volumes":    volumes,
		}}},
	}}
	return manifest.Object{Unstructured: obj, Source: "dashboard mounts"}, paths
}

// staleConfigMaps returns the entries of inv that are not among cms.
func staleConfigMaps(inv kube.Inventory, cms []manifest.Object) kube.Inventory {
	keep := map[string]bool{}
	for _, cm := range cms {
		keep[kube.Ref("ConfigMap", cm.GetNamespace(), cm.GetName())] = true
	}
	stale := kube.Inventory{Entries: []kube.InventoryEntry{}}
	for _, e := range inv.Entries {
		if !keep[e.Ref()] {
			stale.Entries = append(stale.Entries, e)
		}
	}
	return stale
}

// withoutDeleted removes from inv the entries of stale that are not left.
func withoutDeleted(inv, stale, left kube.Inventory) kube.Inventory {
	gone := map[string]bool{}
	for _, e := range stale.Entries {
		gone[e.Ref()] = true
	}
	for _, e := range left.Entries {
		gone[e.Ref()] = false
	}
	out := kube.Inventory{Entries: []kube.InventoryEntry{}}
	for _, e := range inv.Entries {
		if !gone[e.Ref()] {
			out.Entries = append(out.Entries, e)
		}
	}
	return out
}

// mergeEntries returns inv with e added unless an entry names the same object.
func mergeEntries(inv kube.Inventory, e kube.InventoryEntry) kube.Inventory {
	for _, have := range inv.Entries {
		if have.Ref() == e.Ref() {
			return inv
		}
	}
	inv.Entries = append(inv.Entries, e)
	return inv
}

func list(v any) []map[string]any {
	items, _ := v.([]any)
	out := make([]map[string]any, 0, len(items))
	for _, it := range items {
		if m, ok := it.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

func str(v any) string {
	s, _ := v.(string)
	return s
}
