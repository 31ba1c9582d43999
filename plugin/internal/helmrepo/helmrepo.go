// Package helmrepo serves a chart as a Helm chart repository over HTTPS,
// for tests of installs with chart_repo: the chart packaged as Helm does,
// and an index.yaml written by Helm's own repo package with its digest.
package helmrepo

import (
	"encoding/pem"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"helm.sh/helm/v4/pkg/chart/v2/loader"
	chartutil "helm.sh/helm/v4/pkg/chart/v2/util"
	repo "helm.sh/helm/v4/pkg/repo/v1"

	"github.com/cloudify-chaos/chaosops/plugin/launcher"
)

// Serve packages the chart in chartDir and serves it with its index at
// URL/charts until t ends. It returns the repository URL and the server's
// certificate as PEM, to trust it as a private repository's CA.
func Serve(t testing.TB, chartDir string) (repoURL string, caPEM []byte) {
	t.Helper()
	ch, err := loader.Load(chartDir)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	tgz, err := chartutil.Save(ch, dir)
	if err != nil {
		t.Fatal(err)
	}
	sum, err := launcher.FileSHA256(tgz)
	if err != nil {
		t.Fatal(err)
	}
	idx := repo.NewIndexFile()
	if err := idx.MustAdd(ch.Metadata, filepath.Base(tgz), "", sum); err != nil {
		t.Fatal(err)
	}
	if err := idx.WriteFile(filepath.Join(dir, "index.yaml"), 0o644); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(http.StripPrefix("/charts/", http.FileServer(http.Dir(dir))))
	// A client that does not trust the certificate makes the server log a
	// handshake error; tests check the client's side.
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv.URL + "/charts", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
}
