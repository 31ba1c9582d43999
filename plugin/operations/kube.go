package operations

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/cloudify-chaos/chaosops/plugin/cloudify/operation"
	"github.com/cloudify-chaos/chaosops/plugin/kube"
	"github.com/cloudify-chaos/chaosops/plugin/kube/manifest"
)

// Runtime properties of the kubernetes operations.
const (
	propInventory = "kubernetes_inventory"
	propKube      = "kubernetes"
)

var kubeSourceInputs = []operation.Input{
	{Name: "manifest", Description: "inline YAML or JSON (multi-document, List kinds); default: node property manifest"},
	{Name: "files", Description: "list of YAML/JSON files inside the blueprint (fetched with download-resource); default: node property files"},
	{Name: "url", Description: "https URL of a manifest; needs sha256"},
	{Name: "sha256", Description: "hex SHA-256 of the content at url"},
	{Name: "urls", Description: "list of {url, sha256}: several pinned https manifests, read in order (e.g. the files of a release); default: node property urls"},
	{Name: "values", Description: "dict: render the sources as Go templates with these values first"},
	{Name: "namespace", Description: "namespace for namespaced objects that have none (default: the kubeconfig's, else default)"},
}

// Kube returns the kubernetes.* handlers.
func Kube() []operation.Handler {
	in := append(append([]operation.Input{}, connInputs...), kubeSourceInputs...)
	return []operation.Handler{
		{
			Name:    "kubernetes.apply",
			Summary: "Server-side apply manifests in tiers (Namespaces and CRDs first, waiting for Established), prune what left the source, optionally wait for readiness; inventory in runtime property kubernetes_inventory.",
			Inputs: append(in,
				operation.Input{Name: "wait", Default: "false", Description: "wait until every object is ready (rolled out, Established, LoadBalancer address, Ready condition)"},
				operation.Input{Name: "timeout", Default: "5m", Description: "bound for each wait"},
				operation.Input{Name: "prune", Default: "true", Description: "delete objects of the previous apply that left the source"},
				operation.Input{Name: "force_conflicts", Default: "false", Description: "take over fields owned by another field manager"},
				operation.Input{Name: "dry_run", Default: "false", Description: "server-side dry run: validate, change nothing"},
			),
			Timeout: time.Hour,
			Run:     kubeApply,
		},
		{
			Name:    "kubernetes.delete",
			Summary: "Delete the inventory of kubernetes.apply in reverse tier order (foreground) and wait until gone; reports what is stuck and which finalizers hold it.",
			Inputs: append(append([]operation.Input{}, connInputs...),
				operation.Input{Name: "timeout", Default: "5m", Description: "bound for the wait until objects are gone"},
			),
			Timeout: time.Hour,
			Run:     kubeDelete,
		},
	}
}

// sources reads the source inputs, falling back to node properties of
// the same names.
func sources(ctx context.Context, op *operation.Op) ([]manifest.Source, map[string]any, string, error) {
	props, err := op.Ctx.NodeProperties(ctx)
	if err != nil {
		return nil, nil, "", err
	}
	str := func(name string) string {
		if v := op.Inputs.String(name, ""); v != "" {
			return v
		}
		s, _ := props[name].(string)
		return s
	}
	var srcs []manifest.Source
	if m := str("manifest"); m != "" {
		srcs = append(srcs, manifest.Source{Name: "input manifest", Inline: m})
	}
	files, err := op.Inputs.List("files")
	if err != nil {
		return nil, nil, "", err
	}
	if files == nil {
		files, _ = props["files"].([]any)
	}
	for _, f := range files {
		path, err := op.Ctx.DownloadResource(ctx, fmt.Sprint(f), "")
		if err != nil {
			return nil, nil, "", fmt.Errorf("input files: download %s from the blueprint: %w", f, err)
		}
		srcs = append(srcs, manifest.Source{Path: path, Name: fmt.Sprint(f)})
	}
	if u := str("url"); u != "" {
		srcs = append(srcs, manifest.Source{URL: u, SHA256: str("sha256")})
	}
	pinned, err := urlSources(op, props)
	if err != nil {
		return nil, nil, "", err
	}
	srcs = append(srcs, pinned...)
	if len(srcs) == 0 {
		return nil, nil, "", fmt.Errorf("input manifest: no source given; set manifest (inline YAML), files (paths in the blueprint), url with sha256, or urls")
	}
	values, err := op.Inputs.Map("values")
	if err != nil {
		return nil, nil, "", err
	}
	if values == nil {
		values, _ = props["values"].(map[string]any)
	}
	return srcs, values, str("namespace"), nil
}

// urlSources reads the urls input (or node property): a release is often
// many files, each pinned by its own digest.
func urlSources(op *operation.Op, props map[string]any) ([]manifest.Source, error) {
	urls, err := op.Inputs.List("urls")
	if err != nil {
		return nil, err
	}
	if urls == nil {
		urls, _ = props["urls"].([]any)
	}
	srcs := make([]manifest.Source, 0, len(urls))
	for i, item := range urls {
		m, _ := item.(map[string]any)
		u, _ := m["url"].(string)
		sum, _ := m["sha256"].(string)
		if u == "" || sum == "" {
			return nil, fmt.Errorf("input urls: item %d is not {url: https://..., sha256: <64 hex digits>}", i)
		}
		srcs = append(srcs, manifest.Source{URL: u, SHA256: sum})
	}
	return srcs, nil
}

func storedInventory(ctx context.Context, op *operation.Op) (*kube.Inventory, error) {
	rp, err := op.Ctx.RuntimeProperties(ctx)
	if err != nil {
		return nil, err
	}
	raw, ok := rp[propInventory]
	if !ok || raw == nil {
		return &kube.Inventory{}, nil
	}
	b, err := json.Marshal(raw)
	if err != nil {
		return nil, err
	}
	return kube.ParseInventory(b)
}

func inventoryProp(inv kube.Inventory) any {
	b, _ := json.Marshal(inv)
	var v any
	_ = json.Unmarshal(b, &v)
	return v
}

func kubeApply(ctx context.Context, op *operation.Op) error {
	srcs, values, ns, err := sources(ctx, op)
	if err != nil {
		return err
	}
	in := op.Inputs
	var opts kube.ApplyOptions
	var errs []error
	b := func(name string, def bool) bool {
		v, err := in.Bool(name, def)
		errs = append(errs, err)
		return v
	}
	opts.Wait, opts.Prune, opts.ForceConflicts, opts.DryRun = b("wait", false), b("prune", true), b("force_conflicts", false), b("dry_run", false)
	opts.Timeout, err = in.Duration("timeout", kube.DefaultTimeout)
	errs = append(errs, err, kube.CheckNamespace("namespace", ns))
	if err := errors.Join(errs...); err != nil {
		return err
	}
	opts.DefaultNamespace = ns
	objs, err := manifest.Load(ctx, srcs, manifest.Options{Values: values})
	if err != nil {
		return retryOrFail(err)
	}
	if opts.Inventory, err = storedInventory(ctx, op); err != nil {
		return err
	}
	c, err := connect(ctx, op)
	if err != nil {
		return err
	}
	m := kube.NewManager(c, op.Log)
	if !opts.DryRun {
		// Intent first: if this process dies mid-apply, delete still finds
		// what it created (entries without UID, owned by our field manager).
		planned, err := m.Plan(ctx, objs, opts)
		if err != nil {
			return retryOrFail(err)
		}
		if err := op.SetPropNow(ctx, propInventory, inventoryProp(planned)); err != nil {
			return err
		}
	}
	res, err := m.Apply(ctx, objs, opts)
	if res != nil && !res.DryRun {
		// The inventory is written even after a failure, so nothing applied
		// is ever forgotten.
		if perr := op.SetPropNow(context.WithoutCancel(ctx), propInventory, inventoryProp(res.Inventory)); perr != nil && err == nil {
			err = perr
		}
	}
	if res != nil {
		for _, e := range res.ChangeSet.Entries {
			op.Log.Info(e.String())
		}
		op.SetProp(propKube, kubeSummary(res.ChangeSet, res.DryRun))
		op.Return(map[string]any{"summary": res.ChangeSet.Summary()})
	}
	return retryOrFail(err)
}

func kubeSummary(cs kube.ChangeSet, dryRun bool) map[string]any {
	objects := make([]any, 0, len(cs.Entries))
	status := map[string]any{}
	for _, e := range cs.Entries {
		objects = append(objects, map[string]any{"ref": e.Ref, "action": string(e.Action), "uid": e.UID})
		if len(e.Status) > 0 {
			st := map[string]any{}
			for k, v := range e.Status {
				st[k] = v
			}
			status[e.Ref] = st
		}
	}
	return map[string]any{"summary": cs.Summary(), "objects": objects, "status": status, "dry_run": dryRun}
}

func kubeDelete(ctx context.Context, op *operation.Op) error {
	timeout, err := op.Inputs.Duration("timeout", kube.DefaultTimeout)
	if err != nil {
		return err
	}
	inv, err := storedInventory(ctx, op)
	if err != nil {
		return err
	}
	if len(inv.Entries) == 0 {
		op.Log.Info("nothing to delete: the inventory is empty")
		return nil
	}
	c, err := connect(ctx, op)
	if err != nil {
		return err
	}
	res, err := kube.NewManager(c, op.Log).Delete(ctx, kube.DeleteOptions{Inventory: inv, Timeout: timeout})
	if res != nil {
		for _, e := range res.ChangeSet.Entries {
			op.Log.Info(e.String())
		}
		if perr := op.SetPropNow(context.WithoutCancel(ctx), propInventory, inventoryProp(res.Inventory)); perr != nil && err == nil {
			err = perr
		}
		op.SetProp(propKube, kubeSummary(res.ChangeSet, false))
	}
	return retryOrFail(err)
}
