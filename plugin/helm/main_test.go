package helm

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"helm.sh/helm/v4/pkg/chart/v2/loader"
	chartutil "helm.sh/helm/v4/pkg/chart/v2/util"

	"github.com/cloudify-chaos/chaosops/plugin/internal/testenv"
	"github.com/cloudify-chaos/chaosops/plugin/launcher"
)

// TestMain starts (or reuses) the shared control plane of
// scripts/testenv.sh.
func TestMain(m *testing.M) { testenv.Main(m) }

// demoChart is the test chart: a ConfigMap, a Deployment and a Widget
// whose CRD is in crds/.
const demoChart = "testdata/demo"

// cluster is what an integration test works with.
type cluster struct {
	cfg *rest.Config
	cs  kubernetes.Interface
	ns  string
	log *slog.Logger
	// logs collects the log lines for assertions.
	logs *logBuffer
}

func newCluster(t *testing.T) *cluster {
	t.Helper()
	cfg := testenv.Config(t)
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	b := &logBuffer{}
	// Helm logs from goroutines that may outlive the test, so the lines go
	// to a buffer, shown when the test fails.
	t.Cleanup(func() {
		if t.Failed() {
			t.Log("log:\n" + b.String())
		}
	})
	h := slog.NewTextHandler(b, &slog.HandlerOptions{Level: slog.LevelInfo})
	return &cluster{cfg: cfg, cs: cs, ns: testenv.Namespace(t, cfg), log: slog.New(h), logs: b}
}

// logBuffer is a log destination safe for concurrent writes.
type logBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// release is a Release of demoChart named demo in the cluster's namespace.
func (c *cluster) release(values map[string]any) Release {
	return Release{Name: "demo", Namespace: c.ns, Chart: demoChart, Values: values, Timeout: time.Minute}
}

// install runs Install and fails the test on error.
func (c *cluster) install(t *testing.T, r Release) *Status {
	t.Helper()
	st, err := Install(t.Context(), c.cfg, r, c.log)
	if err != nil {
		t.Fatalf("Install: %v", err)
	}
	return st
}

// records lists the names of the release's Secrets (Helm's storage).
func (c *cluster) records(t *testing.T, name string) []string {
	t.Helper()
	l, err := c.cs.CoreV1().Secrets(c.ns).List(context.WithoutCancel(t.Context()), metav1.ListOptions{LabelSelector: "owner=helm,name=" + name})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, s := range l.Items {
		out = append(out, s.Name)
	}
	return out
}

// greeting reads data.greeting of the release's ConfigMap.
func (c *cluster) greeting(t *testing.T, name string) string {
	t.Helper()
	cm, err := c.cs.CoreV1().ConfigMaps(c.ns).Get(t.Context(), name+"-settings", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return cm.Data["greeting"]
}

// configMapExists says whether the ConfigMap name is in the namespace.
func (c *cluster) configMapExists(t *testing.T, name string) bool {
	t.Helper()
	_, err := c.cs.CoreV1().ConfigMaps(c.ns).Get(t.Context(), name, metav1.GetOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		t.Fatal(err)
	}
	return err == nil
}

// packageChart writes dir as a .tgz into a temporary folder and returns its
// path and sha256.
func packageChart(t *testing.T, dir string) (string, string) {
	t.Helper()
	ch, err := loader.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	path, err := chartutil.Save(ch, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	sum, err := launcher.FileSHA256(path)
	if err != nil {
		t.Fatal(err)
	}
	return path, sum
}

// copyChart copies demoChart to a temporary folder, so a test can edit it.
func copyChart(t *testing.T) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "demo")
	err := filepath.WalkDir(demoChart, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(demoChart, path)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

// appendFile adds text to a file of a copied chart.
func appendFile(t *testing.T, path, text string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := fmt.Fprint(f, text); err != nil {
		t.Fatal(err)
	}
}
