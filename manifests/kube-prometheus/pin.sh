#!/bin/sh
# pin.sh: write release.yaml, the pinned kube-prometheus release that the
# Prometheus-Operator blueprint installs: the raw.githubusercontent.com URL
# and SHA-256 of every file of manifests/setup (CRDs, namespace) and
# manifests/ (everything else) at a release tag.
#
#   manifests/kube-prometheus/pin.sh v0.18.0 [KUBE_PROMETHEUS_GIT_DIR]
#
# The digests are computed from the tag's files in a git clone of
# https://github.com/prometheus-operator/kube-prometheus (cloned into a
# temporary folder when no clone is given). raw.githubusercontent.com
# serves those bytes unchanged, so kubernetes.apply's sha256 check passes
# exactly when GitHub serves the tagged content.
set -eu

tag=${1:?usage: pin.sh TAG [KUBE_PROMETHEUS_GIT_DIR], e.g. pin.sh v0.18.0}
repo=${2:-}
here=$(cd "$(dirname "$0")" && pwd)
base=https://raw.githubusercontent.com/prometheus-operator/kube-prometheus

if [ -z "$repo" ]; then
	repo=$(mktemp -d)
	trap 'rm -rf "$repo"' EXIT
	git clone --quiet --bare --filter=blob:none --branch "$tag" \
		https://github.com/prometheus-operator/kube-prometheus "$repo"
fi
git --git-dir="$repo" rev-parse --verify --quiet "$tag^{commit}" >/dev/null ||
	git -C "$repo" rev-parse --verify --quiet "$tag^{commit}" >/dev/null || {
	echo "pin.sh: tag $tag not found in $repo" >&2
	exit 1
}
g() { git --git-dir="$repo" "$@" 2>/dev/null || git -C "$repo" "$@"; }
commit=$(g rev-parse "$tag^{commit}")

# list DIR: one "- url, sha256" item per YAML file directly in DIR (git
# ls-tree without -r does not descend, so manifests leaves out setup/).
list() {
	g ls-tree --name-only "$tag" "$1/" | grep -E '\.ya?ml$' | sort | while read -r path; do
		sum=$(g show "$tag:$path" | sha256sum | cut -d' ' -f1)
		printf '      - url: %s/%s/%s\n        sha256: %s\n' "$base" "$tag" "$path" "$sum"
	done
}

out="$here/release.yaml.tmp"
{
	cat <<HEADER
# kube-prometheus $tag (commit $commit), pinned file by file: written by
# manifests/kube-prometheus/pin.sh $tag; do not edit by hand. Each sha256 is
# the digest of the file at the tag, which raw.githubusercontent.com serves
# unchanged; kubernetes.apply refuses content that does not match.
# To move to another release: manifests/kube-prometheus/pin.sh vX.Y.Z
#
# This is a DSL fragment: blueprints/Prometheus-Operator imports it, and
# its inputs become that blueprint's inputs.
tosca_definitions_version: cloudify_dsl_1_4

inputs:
  kube_prometheus_setup_urls:
    type: list
    description: >
      kube-prometheus $tag manifests/setup (the CRDs and the monitoring namespace), applied first,
      each pinned by its sha256. Give [] to apply kube_prometheus_setup_files instead.
    default:
HEADER
	list manifests/setup
	cat <<MIDDLE
  kube_prometheus_urls:
    type: list
    description: >
      kube-prometheus $tag manifests/ (Prometheus Operator, Prometheus, Alertmanager, Grafana,
      node-exporter, kube-state-metrics, blackbox-exporter, prometheus-adapter), applied once the CRDs
      are Established, each pinned by its sha256. Give [] to apply kube_prometheus_files instead.
    default:
MIDDLE
	list manifests
} >"$out"
mv "$out" "$here/release.yaml"
echo "wrote $here/release.yaml for kube-prometheus $tag ($commit)"
