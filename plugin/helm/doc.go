// Package helm installs, upgrades and uninstalls Helm charts with the Helm Go
// SDK (helm.sh/helm/v4; no helm binary): the engine behind the helm.install
// and helm.uninstall operations and the `chaosops helm` commands.
//
// Install converges a release to a chart and values: it installs when the
// release is absent, upgrades when the chart or the values changed, and
// changes nothing (Status.Changed false) when they are the same. A release
// left pending by a killed earlier run is recovered first. Uninstall removes
// a release and its history; an absent release is success. Get reads a
// release's status.
//
// Releases are stored as Secrets in their namespace (Helm's default driver),
// so the helm CLI sees them and chaosops sees releases the helm CLI made.
// Charts come from a local directory, a local .tgz, an https URL whose
// sha256 is required and checked before the chart is read, or a chart
// repository (name and exact version looked up in its index.yaml, the
// archive checked against the index's digest); downloads are bounded,
// retried when the failure may pass (package download), and cached by
// sha256. On install the chart's crds/ are applied by Helm 3's rule:
// existing CRDs are left as they are unless ForceConflicts, none is touched
// with SkipCRDs. Every log line and error about a release begins with
// "helm release <namespace>/<name>".
package helm
