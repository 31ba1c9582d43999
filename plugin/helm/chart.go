package helm

import (
	"context"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"sort"
	"strings"

	"helm.sh/helm/v4/pkg/chart/common"
	chart "helm.sh/helm/v4/pkg/chart/v2"
	"helm.sh/helm/v4/pkg/chart/v2/loader"

	"github.com/cloudify-chaos/chaosops/plugin/failure"
	"github.com/cloudify-chaos/chaosops/plugin/launcher"
	"github.com/cloudify-chaos/chaosops/plugin/redact"
)

// loadChart reads r.Chart (directory, .tgz, https URL, or a name in
// r.ChartRepo), checking the sha256 before reading and the version after.
func loadChart(ctx context.Context, r Release) (*chart.Chart, error) {
	src := strings.TrimSpace(r.Chart)
	var path string
	switch {
	case r.ChartRepo != "":
		p, err := fetchFromRepo(ctx, r)
		if err != nil {
			return nil, err
		}
		path = p
	case strings.Contains(src, "://"):
		p, err := fetchChart(ctx, src, r.ChartSHA256, r.CacheDir, r.Download)
		if err != nil {
			return nil, err
		}
		path = p
	default:
		if err := checkChart(src, r.ChartSHA256); err != nil {
			return nil, err
		}
		path = src
	}
	ch, err := loader.Load(path)
	if err != nil {
		return nil, failure.Invalidf("chart", "%s is not a valid chart: %v", displayChart(src), err)
	}
	if r.Version != "" && strings.TrimPrefix(r.Version, "v") != strings.TrimPrefix(ch.Metadata.Version, "v") {
		return nil, failure.Invalidf("version", "the chart %s is version %s, not %s; give the chart of version %s or change version", ch.Metadata.Name, ch.Metadata.Version, r.Version, r.Version)
	}
	return ch, nil
}

// checkChart checks a chart source that needs no download: a URL's form
// (https, with its sha256), or a local chart directory or .tgz that must
// exist, match its sha256 and load.
func checkChart(src, sum string) error {
	if strings.Contains(src, "://") {
		u, err := url.Parse(src)
		switch {
		case err != nil:
			return failure.Invalidf("chart", "not a valid URL; give the https URL of the packaged chart with chart_sha256")
		case u.Scheme != "https":
			return failure.Invalidf("chart", "%s: only local paths, https:// URLs and chart repositories are supported (no %s://); give the https URL of the packaged chart with chart_sha256, or chart_repo with the chart's name and version", displayChart(src), u.Scheme)
		case sum == "":
			return failure.Invalidf("chart_sha256", "is required for a chart URL (%s): the hex SHA-256 of the .tgz, e.g. from `sha256sum`", redact.URL(u))
		}
		return nil
	}
	st, err := os.Stat(src)
	if err != nil {
		return failure.Invalidf("chart", "%s: no such chart directory or .tgz file", src)
	}
	if st.IsDir() && sum != "" {
		return failure.Invalidf("chart_sha256", "applies to a packaged chart (.tgz or URL), and %s is a directory; drop chart_sha256 or package the chart", src)
	}
	if !st.IsDir() && sum != "" {
		if err := checkFileSHA256(src, sum); err != nil {
			return err
		}
	}
	if _, err := loader.Load(src); err != nil {
		return failure.Invalidf("chart", "%s is not a valid chart: %v", src, err)
	}
	return nil
}

// checkFileSHA256 compares a local file's digest with want.
func checkFileSHA256(path, want string) error {
	want, err := parseSHA256(want)
	if err != nil {
		return err
	}
	got, err := launcher.FileSHA256(path)
	if err != nil {
		return failure.Invalidf("chart", "%s: %v", path, err)
	}
	if got != want {
		return failure.Invalidf("chart_sha256", "%s has sha256 %s, expected %s; nothing was installed", path, got, want)
	}
	return nil
}

// parseSHA256 normalises a hex digest, with or without "sha256:".
func parseSHA256(s string) (string, error) {
	s = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(s), "sha256:")))
	if _, err := hex.DecodeString(s); err != nil || len(s) != 64 {
		return "", failure.Invalidf("chart_sha256", "must be the 64 hex digits of the packaged chart's SHA-256 (e.g. from `sha256sum chart.tgz`)")
	}
	return s, nil
}

// digestLabel is the release label holding chartDigest of the chart it was
// made from: a changed chart whose version was not bumped (a local chart
// being edited) still upgrades.
const digestLabel = "chaosops.dev/chart-digest"

// chartDigest hashes what a release renders from: metadata, templates,
// values, schema and files (CRDs included) of the chart and its
// dependencies, without modification times. The result (52 characters of
// base32) fits a label value.
func chartDigest(ch *chart.Chart) string {
	h := sha256.New()
	var walk func(c *chart.Chart)
	walk = func(c *chart.Chart) {
		meta, _ := json.Marshal(c.Metadata)
		values, _ := json.Marshal(c.Values)
		fmt.Fprintf(h, "chart %s\nmetadata %d\n%s\nvalues %d\n%s\nschema %d\n%s\n", c.Name(), len(meta), meta, len(values), values, len(c.Schema), c.Schema)
		for _, f := range append(append([]*chartFile{}, files("template", c.Templates)...), files("file", c.Files)...) {
			fmt.Fprintf(h, "%s %s %d\n%s\n", f.kind, f.name, len(f.data), f.data)
		}
		deps := append([]*chart.Chart{}, c.Dependencies()...)
		sort.Slice(deps, func(i, j int) bool { return deps[i].Name() < deps[j].Name() })
		for _, d := range deps {
			walk(d)
		}
	}
	walk(ch)
	return strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(h.Sum(nil)))
}

type chartFile struct {
	kind, name string
	data       []byte
}

func files(kind string, fs []*common.File) []*chartFile {
	out := make([]*chartFile, 0, len(fs))
	for _, f := range fs {
		out = append(out, &chartFile{kind: kind, name: f.Name, data: f.Data})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

// displayChart is the chart source without credentials in a URL.
func displayChart(src string) string {
	if strings.Contains(src, "://") {
		return redactURLString(src)
	}
	return src
}
