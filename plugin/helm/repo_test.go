package helm

import (
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"helm.sh/helm/v4/pkg/chart/v2/loader"
	repo "helm.sh/helm/v4/pkg/repo/v1"

	"github.com/cloudify-chaos/chaosops/plugin/download"
	"github.com/cloudify-chaos/chaosops/plugin/failure"
)

// chartRepo is a Helm chart repository over HTTPS at /charts: index.yaml
// (written with Helm's repo package) lists the packaged chart with its
// digest, and a version 0.1.0 without an archive. Requests are counted per
// path.
type chartRepo struct {
	srv     *httptest.Server
	archive string // the archive's file name
	digest  string // the digest index.yaml lists

	mu sync.Mutex
	// body is what the archive's URL serves: the packaged bytes, or others.
	body []byte
	// fail answers a path with 503 that many times; -1 is always.
	fail map[string]int
	// hang makes a path answer only when the request is cancelled.
	hang map[string]bool
	hits map[string]int
}

func newChartRepo(t *testing.T, chartDir string) *chartRepo {
	t.Helper()
	tgz, sum := packageChart(t, chartDir)
	data, err := os.ReadFile(tgz)
	if err != nil {
		t.Fatal(err)
	}
	ch, err := loader.Load(tgz)
	if err != nil {
		t.Fatal(err)
	}
	idx := repo.NewIndexFile()
	if err := idx.MustAdd(ch.Metadata, filepath.Base(tgz), "", sum); err != nil {
		t.Fatal(err)
	}
	old := *ch.Metadata
	old.Version = "0.1.0"
	if err := idx.MustAdd(&old, "chaosops-crds-0.1.0.tgz", "", strings.Repeat("1", 64)); err != nil {
		t.Fatal(err)
	}
	idx.SortEntries()
	indexFile := filepath.Join(t.TempDir(), "index.yaml")
	if err := idx.WriteFile(indexFile, 0o644); err != nil {
		t.Fatal(err)
	}
	index, err := os.ReadFile(indexFile)
	if err != nil {
		t.Fatal(err)
	}
	cr := &chartRepo{archive: filepath.Base(tgz), digest: sum, body: data, fail: map[string]int{}, hang: map[string]bool{}, hits: map[string]int{}}
	cr.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cr.mu.Lock()
		cr.hits[r.URL.Path]++
		fail, hang, body := cr.fail[r.URL.Path], cr.hang[r.URL.Path], cr.body
		if fail > 0 {
			cr.fail[r.URL.Path]--
		}
		cr.mu.Unlock()
		switch {
		case hang:
			<-r.Context().Done()
		case fail != 0:
			http.Error(w, "maintenance", http.StatusServiceUnavailable)
		case r.URL.Path == "/charts/index.yaml":
			_, _ = w.Write(index)
		case r.URL.Path == "/charts/"+cr.archive:
			_, _ = w.Write(body)
		default:
			http.NotFound(w, r)
		}
	}))
	// The untrusted-certificate case makes the server log a handshake error.
	cr.srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	cr.srv.StartTLS()
	t.Cleanup(cr.srv.Close)
	return cr
}

// url is the repository's URL; archiveURL the archive's.
func (cr *chartRepo) url() string        { return cr.srv.URL + "/charts" }
func (cr *chartRepo) archiveURL() string { return cr.url() + "/" + cr.archive }

func (cr *chartRepo) count(p string) int {
	cr.mu.Lock()
	defer cr.mu.Unlock()
	return cr.hits[p]
}

func (cr *chartRepo) total() int {
	cr.mu.Lock()
	defer cr.mu.Unlock()
	n := 0
	for _, h := range cr.hits {
		n += h
	}
	return n
}

func (cr *chartRepo) set(fn func(cr *chartRepo)) {
	cr.mu.Lock()
	defer cr.mu.Unlock()
	fn(cr)
}

// release installs chaosops-crds 0.2.0 from the repository as name, with
// a cache of its own and a backoff short enough for the retrying cases.
func (cr *chartRepo) release(c *cluster, name, cache string) Release {
	return Release{Name: name, Namespace: c.ns, ChartRepo: cr.url(), Chart: "chaosops-crds", Version: "0.2.0", Timeout: time.Minute,
		CacheDir: cache, Download: download.Options{Client: cr.srv.Client(), Backoff: time.Millisecond}}
}

// assertNothingInstalled fails when release name has a record or its
// ConfigMap exists.
func (c *cluster) assertNothingInstalled(t *testing.T, name string) {
	t.Helper()
	if r := c.records(t, name); len(r) != 0 {
		t.Errorf("records created: %v", r)
	}
	if c.configMapExists(t, name+"-settings") {
		t.Errorf("the ConfigMap %s-settings was created", name)
	}
}

func TestInstallFromChartRepo(t *testing.T) {
	c := newCluster(t)
	cr := newChartRepo(t, crdChart(t, chaosMeshCRD(t, leftCRDs[0])))
	index := cr.url() + "/index.yaml"

	t.Run("a tampered archive is refused naming both digests, and nothing is installed", func(t *testing.T) {
		cr.set(func(cr *chartRepo) { cr.body = append(append([]byte{}, cr.body...), "tampered"...) })
		defer cr.set(func(cr *chartRepo) { cr.body = cr.body[:len(cr.body)-len("tampered")] })
		cache := t.TempDir()
		_, err := Install(t.Context(), c.cfg, cr.release(c, "tampered", cache), c.log)
		if !failure.IsInvalid(err) || !strings.HasPrefix(err.Error(), "chart_repo: "+cr.archiveURL()+" has sha256 ") {
			t.Fatalf("error %v, want a chart_repo error naming the archive URL", err)
		}
		for _, want := range []string{"but " + index + " lists digest " + cr.digest + " for chaosops-crds 0.2.0", "nothing was installed"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %v lacks %q", err, want)
			}
		}
		if strings.Count(err.Error(), "sha256 ") != 1 || strings.Contains(err.Error(), "has sha256 "+cr.digest) {
			t.Errorf("error %v does not name the archive's own digest", err)
		}
		c.assertNothingInstalled(t, "tampered")
		if entries, _ := os.ReadDir(cache); len(entries) != 0 {
			t.Errorf("cache holds %v", entries)
		}
	})
	t.Run("a chart_sha256 that differs from the index's digest is refused before the archive is downloaded", func(t *testing.T) {
		before := cr.count("/charts/" + cr.archive)
		r := cr.release(c, "pinned", t.TempDir())
		r.ChartSHA256 = strings.Repeat("ab", 32)
		_, err := Install(t.Context(), c.cfg, r, c.log)
		want := "chart_sha256: is " + strings.Repeat("ab", 32) + ", but " + index + " lists digest " + cr.digest
		if !failure.IsInvalid(err) || !strings.HasPrefix(err.Error(), want) {
			t.Fatalf("error %v, want it to start %q", err, want)
		}
		if n := cr.count("/charts/"+cr.archive) - before; n != 0 {
			t.Errorf("the archive was downloaded %d times", n)
		}
		c.assertNothingInstalled(t, "pinned")
	})

	cache := t.TempDir()
	t.Run("chart_repo, chart and version install the archive the index lists, checked against its digest", func(t *testing.T) {
		indexBefore, archiveBefore := cr.count("/charts/index.yaml"), cr.count("/charts/"+cr.archive)
		st := c.install(t, cr.release(c, "repo", cache))
		if st.Revision != 1 || st.ChartName != "chaosops-crds" || st.ChartVersion != "0.2.0" || st.Status != "deployed" {
			t.Fatalf("status %+v", st)
		}
		if _, err := os.Stat(filepath.Join(cache, cr.digest+".tgz")); err != nil {
			t.Errorf("not cached by digest: %v", err)
		}
		if i, a := cr.count("/charts/index.yaml")-indexBefore, cr.count("/charts/"+cr.archive)-archiveBefore; i != 1 || a != 1 {
			t.Errorf("index read %d times, archive %d times; want 1 and 1", i, a)
		}
	})
	t.Run("with the matching chart_sha256 the cached archive is used and nothing changes", func(t *testing.T) {
		before := cr.count("/charts/" + cr.archive)
		r := cr.release(c, "repo", cache)
		r.ChartSHA256 = "sha256:" + cr.digest
		if st := c.install(t, r); st.Changed || st.Revision != 1 {
			t.Errorf("status %+v, want revision 1 unchanged", st)
		}
		if n := cr.count("/charts/"+cr.archive) - before; n != 0 {
			t.Errorf("the archive was downloaded %d more times", n)
		}
	})
	t.Run("an index that answers 503 twice, then serves, is read at the third attempt", func(t *testing.T) {
		cr.set(func(cr *chartRepo) { cr.fail["/charts/index.yaml"] = 2 })
		before := cr.count("/charts/index.yaml")
		if st := c.install(t, cr.release(c, "repo", cache)); st.Revision != 1 {
			t.Errorf("status %+v", st)
		}
		if n := cr.count("/charts/index.yaml") - before; n != 3 {
			t.Errorf("index requested %d times, want 3", n)
		}
		if !strings.Contains(c.logs.String(), "download "+index+": HTTP 503 Service Unavailable (attempt 1 of 3); retrying in ") {
			t.Errorf("log lacks the retry:\n%s", c.logs)
		}
	})

	fix := "mirror the chart (`helm pull chaosops-crds --repo " + cr.url() + " --version 0.2.0`) and give the .tgz as chart, without chart_repo"
	for _, tc := range []struct {
		name string
		path string
		hang bool
		opts func(*download.Options)
		want string
	}{
		{"an index that always answers 503 fails after 3 attempts, naming its URL and the fix", "/charts/index.yaml", false, nil,
			"chart " + index + ": HTTP 503 Service Unavailable (3 attempts); if it stays unreachable, " + fix},
		{"an archive that always answers 503 fails after 5 attempts when given 5", "/charts/chaosops-crds-0.2.0.tgz", false, func(o *download.Options) { o.Attempts = 5 },
			"chart " + cr.url() + "/chaosops-crds-0.2.0.tgz: HTTP 503 Service Unavailable (5 attempts); if it stays unreachable, " + fix},
		{"an index that does not answer within the timeout fails after the attempts", "/charts/index.yaml", true, func(o *download.Options) { o.Timeout = 50 * time.Millisecond; o.Attempts = 2 },
			"chart " + index + ": no complete answer within 50ms (2 attempts)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cr.set(func(cr *chartRepo) {
				if tc.hang {
					cr.hang[tc.path] = true
				} else {
					cr.fail[tc.path] = -1
				}
			})
			defer cr.set(func(cr *chartRepo) { delete(cr.fail, tc.path); delete(cr.hang, tc.path) })
			r := cr.release(c, "unreachable", t.TempDir())
			r.ChartRepo += "?token=s3cr3t"
			if tc.opts != nil {
				tc.opts(&r.Download)
			}
			_, err := Install(t.Context(), c.cfg, r, c.log)
			var fe *FetchError
			if !errors.As(err, &fe) || failure.IsInvalid(err) {
				t.Fatalf("error %v (%T), want a FetchError (a later run may succeed)", err, err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error\n%v\nlacks\n%s", err, tc.want)
			}
			if strings.Contains(err.Error(), "s3cr3t") || strings.Contains(c.logs.String(), "s3cr3t") {
				t.Errorf("the token shows in the error or the log: %v", err)
			}
			c.assertNothingInstalled(t, "unreachable")
		})
	}
}

func TestInstallFromChartRepoRefusesBadInput(t *testing.T) {
	c := newCluster(t)
	cr := newChartRepo(t, crdChart(t))
	index := cr.url() + "/index.yaml"
	for _, tc := range []struct {
		name      string
		edit      func(*Release)
		field     string
		want      string
		contacted bool
	}{
		{"a chart repository without version", func(r *Release) { r.Version = "" }, "version", "is required with chart_repo: the exact chart version", false},
		{"a version range", func(r *Release) { r.Version = "^0.2" }, "version", `"^0.2" is a range; with chart_repo give the exact version`, false},
		{"a plain http repository", func(r *Release) { r.ChartRepo = "http://user:pw@charts.example.invalid/charts" }, "chart_repo",
			"http://charts.example.invalid/charts is not an https:// URL; give the https URL of the chart repository", false},
		{"a chart repository without chart name", func(r *Release) { r.Chart = "" }, "chart", "is required with chart_repo: the chart's name", false},
		{"a chart path with a chart repository", func(r *Release) { r.Chart = "./chaosops-crds-0.2.0.tgz" }, "chart", "chart is the chart's name in the repository", false},
		{"a chart_sha256 that is not hex", func(r *Release) { r.ChartSHA256 = "xyz" }, "chart_sha256", "64 hex digits", false},
		{"a CA bundle that is no certificate", func(r *Release) { r.Download.Client, r.CACert = nil, "-----BEGIN nothing" }, "chart_ca_cert", "holds no PEM certificate", false},
		{"a version the index does not list", func(r *Release) { r.Version = "9.9.9" }, "version",
			"9.9.9 is not in " + index + " for chart chaosops-crds; available: 0.2.0, 0.1.0", true},
		{"a chart the index does not list", func(r *Release) { r.Chart = "chaos-mesh" }, "chart", index + ` has no chart "chaos-mesh"; it has chaosops-crds`, true},
		{"a repository whose certificate is not trusted", func(r *Release) { r.Download.Client = nil }, "chart_repo", "certificate", true},
	} {
		t.Run(tc.name+" is refused naming "+tc.field, func(t *testing.T) {
			before := cr.total()
			r := cr.release(c, "bad", t.TempDir())
			tc.edit(&r)
			_, err := Install(t.Context(), c.cfg, r, c.log)
			if !failure.IsInvalid(err) || !strings.HasPrefix(err.Error(), tc.field+": ") || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v; want an InvalidError starting %q and containing %q", err, tc.field+": ", tc.want)
			}
			if strings.Contains(err.Error(), "pw") {
				t.Errorf("error shows the password: %v", err)
			}
			// A handshake that fails reaches the server but not the handler.
			if n := cr.total() - before; !tc.contacted && n != 0 {
				t.Errorf("the repository was contacted %d times", n)
			}
			c.assertNothingInstalled(t, "bad")
		})
	}
}
