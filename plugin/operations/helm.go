package operations

import (
	"context"
	"errors"
	"os"
	"strings"
	"time"

	"github.com/cloudify-chaos/chaosops/plugin/cloudify/operation"
	"github.com/cloudify-chaos/chaosops/plugin/failure"
	"github.com/cloudify-chaos/chaosops/plugin/helm"
	"github.com/cloudify-chaos/chaosops/plugin/kube"
)

// propHelm is the runtime property describing the release (never its
// values, which may hold secrets).
const propHelm = "helm_release"

var helmReleaseInputs = []operation.Input{
	{Name: "release", Description: "release name: lowercase letters, digits and '-', at most 53 characters; default: node property release (helm.uninstall: also runtime property helm_release)"},
	{Name: "namespace", Default: "the kubeconfig context's namespace, else default", Description: "namespace of the release record and its namespaced objects; default: node property namespace first"},
}

// Helm returns the helm.* handlers.
func Helm() []operation.Handler {
	in := append(append([]operation.Input{}, connInputs...), helmReleaseInputs...)
	return []operation.Handler{
		{
			Name: "helm.install",
			Summary: "Install a Helm chart with the Helm Go SDK (from the blueprint, a path, an https URL, or a chart repository by name and version, " +
				"verified against its index's digest), upgrade it when the chart or values changed, change nothing when they are the same; " +
				"on install the chart's CRDs already in the cluster are left as they are unless force_conflicts; " +
				"a release left pending by a killed run is recovered; release facts (no values) in runtime property helm_release.",
			Inputs: append(in,
				operation.Input{Name: "chart", Description: "packaged chart (.tgz) inside the blueprint (fetched with download-resource), an absolute path on the manager (chart folder or .tgz), an https URL of a .tgz with chart_sha256, or with chart_repo the chart's name (e.g. chaos-mesh); default: node property chart"},
				operation.Input{Name: "chart_repo", Description: "https URL of a Helm chart repository (the folder holding index.yaml), as helm install --repo: chart is then the chart's name and version the exact version; index.yaml is read over verified TLS and the archive it lists must match the index's digest (cached by it); default: node property chart_repo"},
				operation.Input{Name: "chart_sha256", Description: "hex SHA-256 of the .tgz: required for a URL (checked before the chart is read; downloads are cached by it), checked for a .tgz when given, and with chart_repo a stronger pin that must equal the index's digest"},
				operation.Input{Name: "chart_ca_cert", Description: "CA bundle (PEM content, a file of the blueprint or an absolute path) trusted besides the system's roots for chart_repo and chart URLs, for a private repository; TLS is always verified; default: node property chart_ca_cert"},
				operation.Input{Name: "version", Description: "the chart version expected; a chart of another version is refused; required with chart_repo, where it picks the index entry"},
				operation.Input{Name: "values", Description: "dict of chart values (override values_file); default: node property values"},
				operation.Input{Name: "values_file", Description: "YAML values file inside the blueprint (download-resource) or an absolute path; values override it"},
				operation.Input{Name: "create_namespace", Default: "true", Description: "create namespace when missing"},
				operation.Input{Name: "skip_crds", Default: "false", Description: "as helm --skip-crds: create or change none of the CRDs in the chart's crds/ folders; default: node property skip_crds"},
				operation.Input{Name: "force_conflicts", Default: "false", Description: "as helm --force-conflicts: server-side apply takes over fields other field managers own, of the chart's existing CRDs and of the release's objects; without it CRDs already in the cluster are left as they are (Helm 3's rule, named in the event log) and only missing ones created; default: node property force_conflicts"},
				operation.Input{Name: "wait", Default: "true", Description: "wait until every resource is ready (rolled out, Jobs complete) before the release counts as deployed"},
				operation.Input{Name: "timeout", Default: "5m", Description: "bound for each wait (resources, hooks); a release still pending this long plus 1m after a killed run is recovered"},
			),
			Timeout: time.Hour,
			Run:     helmInstall,
		},
		{
			Name:    "helm.uninstall",
			Summary: "Uninstall a Helm release (its objects and history; the chart's crds/ stay) and wait until its objects are gone; an absent release is success.",
			Inputs: append(in,
				operation.Input{Name: "wait", Default: "true", Description: "wait until the objects are gone (foreground deletion: pods before their Deployment)"},
				operation.Input{Name: "timeout", Default: "5m", Description: "bound for the wait"},
			),
			Timeout: time.Hour,
			Run:     helmUninstall,
		},
	}
}

// helmParams reads an input, falling back to the node property of the
// same name.
type helmParams struct {
	op    *operation.Op
	props map[string]any
}

func newHelmParams(ctx context.Context, op *operation.Op) (*helmParams, error) {
	props, err := op.Ctx.NodeProperties(ctx)
	if err != nil {
		return nil, err
	}
	return &helmParams{op: op, props: props}, nil
}

func (p *helmParams) str(name string) string {
	if v := p.op.Inputs.String(name, ""); v != "" {
		return v
	}
	s, _ := p.props[name].(string)
	return s
}

// boolean is the input, else the node property, else def.
func (p *helmParams) boolean(name string, def bool) (bool, error) {
	if p.op.Inputs.Has(name) {
		return p.op.Inputs.Bool(name, def)
	}
	if v, ok := p.props[name].(bool); ok {
		return v, nil
	}
	return def, nil
}

func helmInstall(ctx context.Context, op *operation.Op) error {
	p, err := newHelmParams(ctx, op)
	if err != nil {
		return err
	}
	in := op.Inputs
	r := helm.Release{Name: p.str("release"), Namespace: p.str("namespace"), ChartRepo: p.str("chart_repo"),
		ChartSHA256: p.str("chart_sha256"), Version: p.str("version")}
	var errs []error
	b := func(name string, def bool) bool {
		v, err := in.Bool(name, def)
		errs = append(errs, err)
		return v
	}
	r.CreateNamespace, r.Wait = b("create_namespace", true), b("wait", true)
	pb := func(name string) bool {
		v, err := p.boolean(name, false)
		errs = append(errs, err)
		return v
	}
	r.SkipCRDs, r.ForceConflicts = pb("skip_crds"), pb("force_conflicts")
	r.Timeout, err = in.Duration("timeout", helm.DefaultTimeout)
	errs = append(errs, err)
	values, err := in.Map("values")
	errs = append(errs, err)
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if values == nil {
		values, _ = p.props["values"].(map[string]any)
	}
	// Blueprint files arrive one at a time, into a folder removed at the end.
	tmp, err := os.MkdirTemp("", "chaosops-helm-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	if r.ChartRepo != "" {
		r.Chart = p.str("chart") // a name in the repository
	} else if r.Chart, err = blueprintFile(ctx, op, "chart", p.str("chart"), tmp); err != nil {
		return err
	}
	if ca := p.str("chart_ca_cert"); ca != "" && !strings.Contains(ca, "-----BEGIN") {
		if r.CACert, err = blueprintFile(ctx, op, "chart_ca_cert", ca, tmp); err != nil {
			return err
		}
	} else {
		r.CACert = ca
	}
	var files []string
	if vf := p.str("values_file"); vf != "" {
		path, err := blueprintFile(ctx, op, "values_file", vf, tmp)
		if err != nil {
			return err
		}
		files = append(files, path)
	}
	if r.Values, err = helm.MergeValues(files, values, nil); err != nil {
		return err
	}
	// The name, the namespace and where the chart comes from are checked
	// before connecting.
	if err := r.Check(); err != nil {
		return err
	}
	c, err := connect(ctx, op)
	if err != nil {
		return err
	}
	if r.Namespace == "" {
		r.Namespace = defaultNamespace(c.Namespace)
	}
	st, err := helm.Install(ctx, c.RESTConfig(), r, op.Log)
	if st != nil {
		op.SetProp(propHelm, helmProp(st))
		op.Return(helmReturn(st))
	}
	return retryOrFail(err)
}

func helmUninstall(ctx context.Context, op *operation.Op) error {
	p, err := newHelmParams(ctx, op)
	if err != nil {
		return err
	}
	name, ns := p.str("release"), p.str("namespace")
	if name == "" {
		// The release helm.install recorded on this node instance.
		rp, err := op.Ctx.RuntimeProperties(ctx)
		if err != nil {
			return err
		}
		if rec, ok := rp[propHelm].(map[string]any); ok {
			name, _ = rec["name"].(string)
			if ns == "" {
				ns, _ = rec["namespace"].(string)
			}
		}
	}
	if name == "" {
		return &failure.InvalidError{Field: "release", Err: errors.New("is required: give the release name (no helm_release runtime property to take it from)")}
	}
	wait, err := op.Inputs.Bool("wait", true)
	if err != nil {
		return err
	}
	timeout, err := op.Inputs.Duration("timeout", helm.DefaultTimeout)
	if err != nil {
		return err
	}
	if err := errors.Join(helm.CheckName(name), kube.CheckNamespace("namespace", ns)); err != nil {
		return err
	}
	c, err := connect(ctx, op)
	if err != nil {
		return err
	}
	if ns == "" {
		ns = defaultNamespace(c.Namespace)
	}
	st, err := helm.Uninstall(ctx, c.RESTConfig(), name, ns, wait, timeout, op.Log)
	if st != nil {
		op.SetProp(propHelm, helmProp(st))
		op.Return(helmReturn(st))
	}
	return retryOrFail(err)
}

func defaultNamespace(ns string) string {
	if ns == "" {
		return "default"
	}
	return ns
}

// helmProp is runtime property helm_release: facts, never values.
func helmProp(st *helm.Status) map[string]any {
	return map[string]any{"name": st.Name, "namespace": st.Namespace, "revision": st.Revision, "status": st.Status,
		"chart": st.ChartName, "version": st.ChartVersion, "app_version": st.AppVersion}
}

// helmReturn is the operation's return value: the property plus what
// changed and the objects.
func helmReturn(st *helm.Status) map[string]any {
	m := helmProp(st)
	m["changed"] = st.Changed
	res := make([]any, 0, len(st.Resources))
	for _, r := range st.Resources {
		res = append(res, r)
	}
	m["resources"] = res
	return m
}
