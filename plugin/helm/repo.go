package helm

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"slices"
	"strings"

	repo "helm.sh/helm/v4/pkg/repo/v1"

	"github.com/cloudify-chaos/chaosops/plugin/download"
	"github.com/cloudify-chaos/chaosops/plugin/failure"
	"github.com/cloudify-chaos/chaosops/plugin/redact"
)

// MaxIndexBytes bounds a chart repository's index.yaml. Large public
// repositories' indexes run to tens of MB.
const MaxIndexBytes = 64 << 20

// maxListed bounds the chart names or versions an error lists.
const maxListed = 20

// fetchFromRepo returns the path of the archive that r.ChartRepo's index
// lists for chart r.Chart at version r.Version, as `helm install --repo`
// finds it: index.yaml read over verified TLS, the entry of that exact
// version, its first URL resolved against the repository URL. The archive
// must match the digest the index lists, and r.ChartSHA256 when given;
// it is cached by that digest.
func fetchFromRepo(ctx context.Context, r Release) (string, error) {
	fix := fmt.Sprintf("mirror the chart (`helm pull %s --repo %s --version %s`) and give the .tgz as chart, without chart_repo (a file of the blueprint or an absolute path on the manager)",
		r.Chart, redactURLString(r.ChartRepo), r.Version)
	indexRaw, err := repo.ResolveReferenceURL(r.ChartRepo, "index.yaml")
	if err != nil {
		return "", failure.Invalidf("chart_repo", "%s: %v", redactURLString(r.ChartRepo), err)
	}
	indexURL, err := url.Parse(indexRaw)
	if err != nil {
		return "", failure.Invalidf("chart_repo", "%s: %v", redactURLString(r.ChartRepo), err)
	}
	index := redact.URL(indexURL)
	dl := r.Download
	dl.MaxBytes = MaxIndexBytes
	data, err := download.Get(ctx, indexURL, dl)
	if err != nil {
		return "", downloadError(err, "chart_repo", fix)
	}
	idx, err := parseIndex(data)
	if err != nil {
		return "", failure.Invalidf("chart_repo", "%s is not a Helm repository index (%v); give the URL of the folder holding index.yaml", index, err)
	}
	cv, err := findVersion(idx, index, r.Chart, r.Version)
	if err != nil {
		return "", err
	}
	what := fmt.Sprintf("%s %s", r.Chart, cv.Version)
	if len(cv.URLs) == 0 {
		return "", failure.Invalidf("chart_repo", "%s lists no archive URL for %s; %s", index, what, fix)
	}
	chartRaw, err := repo.ResolveReferenceURL(r.ChartRepo, cv.URLs[0])
	if err != nil {
		return "", failure.Invalidf("chart_repo", "%s lists an archive URL for %s that does not parse: %v", index, what, err)
	}
	chartURL, err := url.Parse(chartRaw)
	if err != nil {
		return "", failure.Invalidf("chart_repo", "%s lists an archive URL for %s that does not parse: %v", index, what, err)
	}
	archive := redact.URL(chartURL)
	if chartURL.Scheme != "https" {
		return "", failure.Invalidf("chart_repo", "%s lists %s for %s, which is not https; %s", index, archive, what, fix)
	}
	want, err := indexDigest(cv.Digest)
	if err != nil {
		return "", failure.Invalidf("chart_repo", "%s lists digest %q for %s, which is no sha256; give chart_sha256 to pin the archive instead", index, cv.Digest, what)
	}
	if r.ChartSHA256 != "" {
		pin, err := parseSHA256(r.ChartSHA256)
		if err != nil {
			return "", err
		}
		if want != "" && pin != want {
			return "", failure.Invalidf("chart_sha256", "is %s, but %s lists digest %s for %s; nothing was downloaded or installed", pin, index, want, what)
		}
		want = pin
	}
	if want == "" {
		return "", failure.Invalidf("chart_repo", "%s lists no digest for %s, so the archive cannot be verified; give chart_sha256 to pin it", index, what)
	}
	return fetchArchive(ctx, chartURL, want, r.CacheDir, r.Download, fix, func(got string) error {
		return failure.Invalidf("chart_repo", "%s has sha256 %s, but %s lists digest %s for %s; the archive was refused and nothing was installed", archive, got, index, want, what)
	})
}

// parseIndex reads an index.yaml with Helm's own loader (strict YAML,
// invalid entries dropped, versions sorted newest first), which reads only
// files.
func parseIndex(data []byte) (*repo.IndexFile, error) {
	f, err := os.CreateTemp("", "chaosops-index-*.yaml")
	if err != nil {
		return nil, err
	}
	defer os.Remove(f.Name())
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, err
	}
	idx, err := repo.LoadIndexFile(f.Name())
	if err != nil {
		// Helm names the temporary file; the caller names the URL.
		return nil, fmt.Errorf("%s", strings.TrimPrefix(err.Error(), "error loading "+f.Name()+": "))
	}
	return idx, nil
}

// findVersion returns the entry of chart name at exactly version (a
// leading "v" aside), or an error listing what the index has.
func findVersion(idx *repo.IndexFile, index, name, version string) (*repo.ChartVersion, error) {
	versions := idx.Entries[name]
	if len(versions) == 0 {
		names := make([]string, 0, len(idx.Entries))
		for n := range idx.Entries {
			names = append(names, n)
		}
		slices.Sort(names)
		return nil, failure.Invalidf("chart", "%s has no chart %q; it has %s", index, name, listed(names))
	}
	want := strings.TrimPrefix(strings.TrimSpace(version), "v")
	available := make([]string, 0, len(versions))
	for _, cv := range versions {
		if strings.TrimPrefix(cv.Version, "v") == want {
			return cv, nil
		}
		available = append(available, cv.Version)
	}
	return nil, failure.Invalidf("version", "%s is not in %s for chart %s; available: %s", version, index, name, listed(available))
}

// listed joins at most maxListed items and counts the rest.
func listed(items []string) string {
	if len(items) == 0 {
		return "none"
	}
	if len(items) <= maxListed {
		return strings.Join(items, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(items[:maxListed], ", "), len(items)-maxListed)
}

// indexDigest normalises an index entry's digest (hex SHA-256, "sha256:"
// allowed); empty stays empty.
func indexDigest(d string) (string, error) {
	if strings.TrimSpace(d) == "" {
		return "", nil
	}
	return parseSHA256(d)
}
