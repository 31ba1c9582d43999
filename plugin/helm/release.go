package helm

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	chartutil "helm.sh/helm/v4/pkg/chart/v2/util"
	release "helm.sh/helm/v4/pkg/release/v1"
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
	// a packaged chart.
	Chart string
	// ChartSHA256 is the hex SHA-256 of the packaged chart: required for a
	// URL, checked for a local .tgz when set, refused for a directory. It is
	// checked before the chart is read.
	ChartSHA256 string
	// Version, when set, must equal the chart's version.
	Version string
	// Values override the chart's values.yaml.
	Values map[string]any
	// CreateNamespace creates Namespace when it does not exist.
	CreateNamespace bool
	// Wait waits until every resource is ready (kstatus rules) and Jobs are
	// complete before the release counts as deployed.
	Wait bool
	// Timeout bounds each wait; default DefaultTimeout.
	Timeout time.Duration
	// CacheDir keeps downloaded charts by sha256; default DefaultCacheDir().
	CacheDir string
	// HTTPClient downloads URL charts; nil means a client with the system's
	// trusted roots, TLS verified, and a 2 minute timeout.
	HTTPClient *http.Client
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
	if err := validateName(r.Name, r.Namespace); err != nil {
		return err
	}
	if strings.TrimSpace(r.Chart) == "" {
		return invalidf("chart", "is required: a chart directory, a .tgz file or an https URL with chart_sha256")
	}
	if r.Timeout < 0 {
		return invalidf("timeout", "must not be negative (got %s); e.g. 5m", r.Timeout)
	}
	if r.Timeout == 0 {
		r.Timeout = DefaultTimeout
	}
	if r.CacheDir == "" {
		r.CacheDir = DefaultCacheDir()
	}
	return nil
}

func validateName(name, namespace string) error {
	if name == "" {
		return invalidf("release", "is required, e.g. chaos-mesh")
	}
	if err := chartutil.ValidateReleaseName(name); err != nil {
		return invalidf("release", "%q is not a valid release name: lowercase letters, digits and '-', at most 53 characters", name)
	}
	if namespace == "" {
		return invalidf("namespace", "is required")
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
