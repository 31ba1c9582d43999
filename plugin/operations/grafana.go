package operations

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/cloudify-chaos/chaosops/plugin/cloudify/operation"
	"github.com/cloudify-chaos/chaosops/plugin/grafana"
	"github.com/cloudify-chaos/chaosops/plugin/kube"
	"github.com/cloudify-chaos/chaosops/plugin/kube/manifest"
)

// propDashboards is the runtime property recording what
// grafana.install_dashboards put in place (grafana.Installation).
const propDashboards = "grafana_dashboards"

var grafanaTargetInputs = []operation.Input{
	{Name: "grafana_namespace", Default: grafana.DefaultNamespace, Description: "namespace of Grafana's Deployment; the dashboard ConfigMaps are applied there (a pod mounts only ConfigMaps of its own namespace)"},
	{Name: "grafana_deployment", Default: grafana.DefaultDeployment, Description: "Grafana's Deployment (kube-prometheus: grafana)"},
	{Name: "grafana_container", Default: grafana.DefaultContainer, Description: "the Grafana container of that Deployment, which gets the mounts"},
	{Name: "dashboards_folder", Default: grafana.DefaultFolder, Description: "a folder one of Grafana's file providers reads (options.path in its provider file; kube-prometheus: " + grafana.DefaultFolder + "); each ConfigMap is mounted at <folder>/<ConfigMap name>, and a folder no provider reads is refused"},
}

// Grafana returns the grafana.* handlers.
func Grafana() []operation.Handler {
	in := append(append([]operation.Input{}, connInputs...),
		operation.Input{Name: "manifest", Description: "inline YAML of dashboard ConfigMaps (each dashboard a <name>.json data key); default: node property manifest"},
		operation.Input{Name: "files", Description: "list of files inside the blueprint holding dashboard ConfigMaps (fetched with download-resource), e.g. [manifests/grafana/chaosops-dashboard-configmap.yaml]; default: node property files"},
	)
	in = append(in, grafanaTargetInputs...)
	return []operation.Handler{
		{
			Name: "grafana.install_dashboards",
			Summary: "Make a Grafana without dashboard sidecar (kube-prometheus') load dashboards from ConfigMaps: check the ConfigMaps, Grafana's container and that a file provider reads dashboards_folder; " +
				"record intent in runtime property grafana_dashboards; apply the ConfigMaps into grafana_namespace; add a configMap volume and a read-only mount at <dashboards_folder>/<name> per ConfigMap to Grafana's Deployment " +
				"(server-side apply of only those fields under a field manager of this deployment's own, so re-applying the stack keeps them); unmount, then delete, ConfigMaps a previous install had that left the input; wait for the rollout.",
			Inputs: append(in,
				operation.Input{Name: "wait", Default: "true", Description: "wait until Grafana's Deployment has rolled out with the mounts, so the dashboards show when the operation ends"},
				operation.Input{Name: "timeout", Default: "5m", Description: "bound for each wait"},
			),
			Timeout: time.Hour,
			Run:     grafanaInstallDashboards,
		},
		{
			Name: "grafana.uninstall_dashboards",
			Summary: "Take out what grafana.install_dashboards put in (runtime property grafana_dashboards): release the volumes and mounts its field manager owns in Grafana's Deployment " +
				"(nothing else of the Deployment changes), optionally wait for the rollout, then delete the dashboard ConfigMaps and wait until they are gone; what is already gone counts as done.",
			Inputs: append(append([]operation.Input{}, connInputs...),
				operation.Input{Name: "wait", Default: "true", Description: "wait until Grafana's Deployment has rolled out without the mounts"},
				operation.Input{Name: "timeout", Default: "5m", Description: "bound for each wait"},
			),
			Timeout: time.Hour,
			Run:     grafanaUninstallDashboards,
		},
	}
}

func grafanaInstallDashboards(ctx context.Context, op *operation.Op) error {
	in := op.Inputs
	opts := grafana.DashboardOptions{Log: op.Log,
		Namespace: in.String("grafana_namespace", ""), Deployment: in.String("grafana_deployment", ""),
		Container: in.String("grafana_container", ""), Folder: in.String("dashboards_folder", "")}
	var errs []error
	var err error
	opts.Wait, err = in.Bool("wait", true)
	errs = append(errs, err)
	opts.Timeout, err = in.Duration("timeout", kube.DefaultTimeout)
	errs = append(errs, err)
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if err := opts.Validate(); err != nil {
		return err
	}
	srcs, err := dashboardSources(ctx, op)
	if err != nil {
		return err
	}
	objs, err := manifest.Load(ctx, srcs, manifest.Options{})
	if err != nil {
		return err
	}
	prev, err := storedDashboards(ctx, op)
	if err != nil {
		return err
	}
	opts.Previous = prev
	if prev == nil || prev.FieldManager == "" {
		dep, err := op.Ctx.DeploymentID(ctx)
		if err != nil {
			return err
		}
		opts.FieldManager = dashboardsFieldManager(dep)
	}
	c, err := connect(ctx, op)
	if err != nil {
		return err
	}
	// Intent first: if this process dies mid-install, uninstall still
	// finds the ConfigMaps and the mounts.
	plan, err := grafana.PlanDashboards(ctx, c, objs, opts)
	if err != nil {
		return retryOrFail(err)
	}
	if err := op.SetPropNow(ctx, propDashboards, jsonProp(plan)); err != nil {
		return err
	}
	res, err := grafana.InstallDashboards(ctx, c, objs, opts)
	if res != nil {
		if perr := op.SetPropNow(context.WithoutCancel(ctx), propDashboards, jsonProp(res.Installation)); perr != nil && err == nil {
			err = perr
		}
		for _, e := range res.ChangeSet.Entries {
			op.Log.Info(e.String())
		}
		op.Return(map[string]any{"summary": res.ChangeSet.Summary(), "mounts": res.Installation.Mounts})
	}
	return retryOrFail(err)
}

func grafanaUninstallDashboards(ctx context.Context, op *operation.Op) error {
	wait, err := op.Inputs.Bool("wait", true)
	if err != nil {
		return err
	}
	timeout, err := op.Inputs.Duration("timeout", kube.DefaultTimeout)
	if err != nil {
		return err
	}
	inst, err := storedDashboards(ctx, op)
	if err != nil {
		return err
	}
	if inst == nil || inst.Empty() {
		op.Log.Info("nothing to uninstall: runtime property " + propDashboards + " lists no dashboards")
		return nil
	}
	c, err := connect(ctx, op)
	if err != nil {
		return err
	}
	res, err := grafana.UninstallDashboards(ctx, c, *inst, grafana.UninstallOptions{Wait: wait, Timeout: timeout, Log: op.Log})
	if res != nil {
		for _, e := range res.ChangeSet.Entries {
			op.Log.Info(e.String())
		}
		if perr := op.SetPropNow(context.WithoutCancel(ctx), propDashboards, jsonProp(res.Installation)); perr != nil && err == nil {
			err = perr
		}
		op.Return(map[string]any{"summary": res.ChangeSet.Summary()})
	}
	return retryOrFail(err)
}

// dashboardSources reads the manifest and files inputs, falling back to
// node properties of the same names. Dashboards are never rendered as
// templates: their legends use {{label}} themselves.
func dashboardSources(ctx context.Context, op *operation.Op) ([]manifest.Source, error) {
	props, err := op.Ctx.NodeProperties(ctx)
	if err != nil {
		return nil, err
	}
	var srcs []manifest.Source
	m := op.Inputs.String("manifest", "")
	if m == "" {
		m, _ = props["manifest"].(string)
	}
	if m != "" {
		srcs = append(srcs, manifest.Source{Name: "input manifest", Inline: m})
	}
	files, err := op.Inputs.List("files")
	if err != nil {
		return nil, err
	}
	if files == nil {
		files, _ = props["files"].([]any)
	}
	for _, f := range files {
		path, err := op.Ctx.DownloadResource(ctx, fmt.Sprint(f), "")
		if err != nil {
			return nil, fmt.Errorf("input files: download %s from the blueprint: %w", f, err)
		}
		srcs = append(srcs, manifest.Source{Path: path, Name: fmt.Sprint(f)})
	}
	if len(srcs) == 0 {
		return nil, errors.New("input files: no dashboards given; set files (ConfigMap files in the blueprint, e.g. manifests/grafana/chaosops-dashboard-configmap.yaml) or manifest (inline YAML)")
	}
	return srcs, nil
}

// dashboardsFieldManager names the field manager of one deployment's
// mounts: two deployments mounting dashboards into the same Grafana must
// not replace each other's.
func dashboardsFieldManager(deployment string) string {
	fm := grafana.DefaultFieldManager + "/" + deployment
	if len(fm) > 128 {
		fm = fm[:128]
	}
	return fm
}

// storedDashboards reads runtime property grafana_dashboards; nil when
// there is none.
func storedDashboards(ctx context.Context, op *operation.Op) (*grafana.Installation, error) {
	rp, err := op.Ctx.RuntimeProperties(ctx)
	if err != nil {
		return nil, err
	}
	raw, ok := rp[propDashboards]
	if !ok || raw == nil {
		return nil, nil
	}
	b, err := json.Marshal(raw)
	if err != nil {
		return nil, err
	}
	var inst grafana.Installation
	if err := json.Unmarshal(b, &inst); err != nil {
		return nil, fmt.Errorf("runtime property %s: %w", propDashboards, err)
	}
	return &inst, nil
}

// jsonProp turns a typed value into plain JSON values for the ctx proxy.
func jsonProp(v any) any {
	b, _ := json.Marshal(v)
	var out any
	_ = json.Unmarshal(b, &out)
	return out
}
