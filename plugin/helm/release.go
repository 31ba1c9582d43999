package helm

import (
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	chartutil "helm.sh/helm/v4/pkg/chart/v2/util"
	release "helm.sh/helm/v4/pkg/release/v1"

	"github.com/cloudify-chaos/chaosops/plugin/download"
	"github.com/cloudify-chaos/chaosops/plugin/failure"
	"github.com/cloudify-chaos/chaosops/plugin/kube"
	"github.com/cloudify-chaos/chaosops/plugin/redact"
)

// DefaultTimeout bounds each wait (resources ready, hooks, deletion) when
// Release.Timeout is zero.
const DefaultTimeout = 5 * time.Minute

// Release says which chart to converge a release to.
type Release struct {
	// Name is the release name (a DNS label, at most 53 characters).
	Name string
	// Namespace holds the release's record and its namespaced resources.
	Namespace string
	// Chart is a chart directory, a packaged chart (.tgz) or an https URL of
	// a packaged chart; with ChartRepo, the chart's name in the repository.
	Chart string
	// ChartRepo is the https URL of a Helm chart repository (the folder
	// holding index.yaml). With it Chart is a name and Version is required,
	// as for `helm install --repo URL NAME --version V`: the archive the
	// index lists for that version is downloaded and must match the index's
	// digest.
	ChartRepo string
	// ChartSHA256 is the hex SHA-256 of the packaged chart: required for a
	// URL, checked for a local .tgz or a ChartRepo archive when set (a pin
	// stronger than the index's digest), refused for a directory. It is
	// checked before the chart is read.
	ChartSHA256 string
	// Version must equal the chart's version; with ChartRepo it is required
	// and chooses the index entry.
	Version string
	// Values override the chart's values.yaml.
	Values map[string]any
	// CreateNamespace creates Namespace when it does not exist.
	CreateNamespace bool
	// SkipCRDs leaves the CRDs of the chart's crds/ folders alone on install
	// (helm --skip-crds): none is created or changed.
	SkipCRDs bool
	// ForceConflicts makes server-side apply take over fields that another
	// field manager owns (helm --force-conflicts): the existing CRDs of the
	// chart's crds/ folders on install, and the release's objects. Without
	// it existing CRDs are left as they are and only missing ones created.
	ForceConflicts bool
	// Wait waits until every resource is ready (kstatus rules) and Jobs are
	// complete before the release counts as deployed.
	Wait bool
	// Timeout bounds each wait; default DefaultTimeout.
	Timeout time.Duration
	// CacheDir keeps downloaded charts by sha256; default DefaultCacheDir().
	CacheDir string
	// CACert is a CA bundle (PEM text or the path of a PEM file) trusted,
	// besides the system's roots, for ChartRepo and chart URLs. Ignored when
	// Download.Client is set.
	CACert string
	// Download bounds and retries the downloads of the index and the chart
	// (see package download); zero fields take its defaults. Its MaxBytes is
	// set per file (MaxChartBytes, MaxIndexBytes).
	Download download.Options
}

// DefaultCacheDir is $CHAOSOPS_CACHE_DIR/charts, else the user's cache
// directory's chaosops/charts, the cache the launcher also uses.
func DefaultCacheDir() string {
	if d := os.Getenv("CHAOSOPS_CACHE_DIR"); d != "" {
		return filepath.Join(d, "charts")
	}
	d, err := os.UserCacheDir()
	if err != nil {
		d = os.TempDir()
	}
	return filepath.Join(d, "chaosops", "charts")
}

// validate checks the fields that need no cluster and fills defaults.
func (r *Release) validate() error {
	r.ChartRepo, r.Version = strings.TrimSpace(r.ChartRepo), strings.TrimSpace(r.Version)
	if err := validateName(r.Name, r.Namespace); err != nil {
		return err
	}
	if err := r.CheckSource(); err != nil {
		return err
	}
	if r.Timeout < 0 {
		return failure.Invalidf("timeout", "must not be negative (got %s); e.g. 5m", r.Timeout)
	}
	if r.Timeout == 0 {
		r.Timeout = DefaultTimeout
	}
	if r.CacheDir == "" {
		r.CacheDir = DefaultCacheDir()
	}
	if r.Download.Client == nil {
		c, err := download.NewClient(r.CACert)
		if err != nil {
			return failure.Invalidf("chart_ca_cert", "%v", err)
		}
		r.Download.Client = c
	}
	return nil
}

// Check checks, before anything is contacted, the release name, the
// namespace when it is set (an adapter may take it from the cluster
// later) and where the chart comes from (CheckSource).
func (r Release) Check() error {
	if err := CheckName(r.Name); err != nil {
		return err
	}
	if err := kube.CheckNamespace("namespace", r.Namespace); err != nil {
		return err
	}
	if err := CheckTimeout(r.Timeout); err != nil {
		return err
	}
	return r.CheckSource()
}

// CheckTimeout refuses a negative wait bound (zero is the default).
func CheckTimeout(d time.Duration) error {
	if d < 0 {
		return failure.Invalidf("timeout", "%s is negative; give a bound such as 5m, or leave it unset for %s", d, DefaultTimeout)
	}
	return nil
}

// CheckName refuses a release name Helm would refuse.
func CheckName(name string) error {
	if name == "" {
		return failure.Invalidf("release", "is required, e.g. chaos-mesh")
	}
	if err := chartutil.ValidateReleaseName(name); err != nil {
		return failure.Invalidf("release", "%q is not a valid release name: lowercase letters, digits and '-', at most 53 characters", name)
	}
	return nil
}

// CheckSource checks the fields that say where the chart comes from
// (chart, chart_repo, version, chart_sha256, chart_ca_cert) without
// downloading anything, so that an adapter can refuse them before it
// connects to a cluster: a URL must be https with its sha256, a local
// chart must exist and load (a .tgz that is no chart is refused) and match
// its sha256. Install checks them too.
func (r Release) CheckSource() error {
	if r.ChartRepo != "" {
		if err := r.validateRepo(); err != nil {
			return err
		}
	}
	if strings.TrimSpace(r.Chart) == "" {
		return failure.Invalidf("chart", "is required: a chart directory, a .tgz file, an https URL with chart_sha256, or a chart name with chart_repo and version")
	}
	if r.ChartSHA256 != "" {
		if _, err := parseSHA256(r.ChartSHA256); err != nil {
			return err
		}
	}
	if r.Download.Client == nil && r.CACert != "" {
		if _, err := download.NewClient(r.CACert); err != nil {
			return failure.Invalidf("chart_ca_cert", "%v", err)
		}
	}
	if r.ChartRepo != "" {
		return nil
	}
	return checkChart(strings.TrimSpace(r.Chart), r.ChartSHA256)
}

// validateRepo checks the chart repository form, so that a wrong input
// fails before the repository is contacted.
func (r Release) validateRepo() error {
	const want = "give the https URL of the chart repository (the folder holding index.yaml), e.g. https://charts.chaos-mesh.org"
	u, err := url.Parse(strings.TrimSpace(r.ChartRepo))
	if err != nil {
		return failure.Invalidf("chart_repo", "is not a URL; %s", want)
	}
	if u.Scheme != "https" || u.Host == "" {
		return failure.Invalidf("chart_repo", "%s is not an https:// URL; %s", redact.URL(u), want)
	}
	name := strings.TrimSpace(r.Chart)
	switch {
	case name == "":
		return failure.Invalidf("chart", "is required with chart_repo: the chart's name in the repository, e.g. chaos-mesh")
	case strings.ContainsAny(name, "/:") || strings.HasSuffix(name, ".tgz"):
		return failure.Invalidf("chart", "with chart_repo, chart is the chart's name in the repository (e.g. chaos-mesh), not %s; drop chart_repo to install a path or URL", displayChart(name))
	}
	v := strings.TrimSpace(r.Version)
	switch {
	case v == "":
		return failure.Invalidf("version", "is required with chart_repo: the exact chart version to install, e.g. 2.8.3 (the repository's index.yaml lists them)")
	case strings.ContainsAny(v, "^~<>=!*|, ") || strings.ContainsAny(strings.SplitN(v, "-", 2)[0], "xX"):
		return failure.Invalidf("version", "%q is a range; with chart_repo give the exact version to install, e.g. 2.8.3", v)
	}
	return nil
}

func validateName(name, namespace string) error {
	if err := CheckName(name); err != nil {
		return err
	}
	if namespace == "" {
		return failure.Invalidf("namespace", "is required")
	}
	return nil
}

// Status is the state of a release after an operation.
type Status struct {
	Name      string `json:"name"`
	Namespace string `json:"namespace"`
	// Revision counts installs, upgrades and rollbacks, from 1.
	Revision int `json:"revision"`
	// Status is Helm's: deployed, failed, pending-install, uninstalled, ...
	Status       string `json:"status"`
	ChartName    string `json:"chart"`
	ChartVersion string `json:"version"`
	AppVersion   string `json:"app_version,omitempty"`
	// Changed is false when the operation found nothing to do.
	Changed bool `json:"changed"`
	// Resources lists the release's objects as Kind/namespace/name (CRDs
	// from the chart's crds/ folder are not part of a release).
	Resources []string `json:"resources,omitempty"`
}

// ref is the "<namespace>/<name>" every log line and error about a release
// begins with (after "helm release ").
func ref(namespace, name string) string { return namespace + "/" + name }

// statusOf describes rel; resources are resolved by the session.
func statusOf(rel *release.Release, changed bool, resources []string) *Status {
	st := &Status{Name: rel.Name, Namespace: rel.Namespace, Revision: rel.Version, Changed: changed, Resources: resources}
	if rel.Info != nil {
		st.Status = rel.Info.Status.String()
	}
	if rel.Chart != nil && rel.Chart.Metadata != nil {
		st.ChartName, st.ChartVersion, st.AppVersion = rel.Chart.Metadata.Name, rel.Chart.Metadata.Version, rel.Chart.Metadata.AppVersion
	}
	return st
}
