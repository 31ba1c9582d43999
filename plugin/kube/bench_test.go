package kube

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"text/template"
	"time"

	"github.com/cloudify-chaos/chaosops/plugin/internal/testenv"
	"github.com/cloudify-chaos/chaosops/plugin/kube/manifest"
)

// BenchmarkApplyChaosMeshSet applies the 23 Chaos Mesh CRDs (renamed to a
// group of their own, so the shared cluster's CRDs are not touched) and the
// 68 objects of testdata/bench/workload.yaml.tmpl: cold (nothing exists),
// then again unchanged. On the same control plane and in the same run it
// times kubectl on the same files: cold with the usual recipe (apply
// --server-side the CRDs, wait for Established, apply --server-side the
// rest), unchanged with one apply --server-side of both files (also with
// --disable-compression, for reference, since chaosops turns gzip off for a
// loopback API server). It reports the ratios. Each side connects afresh, as a CLI run does. Use
// -benchtime=3x: every iteration creates and deletes ~90 objects.
//
//	go test ./plugin/kube -run '^$' -bench BenchmarkApplyChaosMeshSet -benchtime 3x
func BenchmarkApplyChaosMeshSet(b *testing.B) {
	kubeconfig := testenv.Kubeconfig(b)
	kubectl := findKubectl(b)
	crdText, err := os.ReadFile(filepath.Join(testenv.SharedDir(b), "crds", "chaos-mesh-crd.yaml"))
	if err != nil {
		b.Fatal(err)
	}
	tmpl := template.Must(template.New("workload.yaml.tmpl").Option("missingkey=error").ParseFiles("testdata/bench/workload.yaml.tmpl"))
	cacheDir := b.TempDir()
	kc := func(args ...string) {
		b.Helper()
		cmd := exec.Command(kubectl, append([]string{"--kubeconfig", kubeconfig, "--cache-dir", cacheDir}, args...)...)
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	kc("api-resources", "-o", "name") // a warm discovery cache, as on a workstation

	var ours, oursRe, theirs, theirsWait, theirsRe, theirsReNoGzip time.Duration
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		mine := renderBenchSet(b, tmpl, crdText)
		other := renderBenchSet(b, tmpl, crdText)
		runOurs := func() {
			start := time.Now()
			inv := applyBenchSet(b, kubeconfig, mine.dir, nil)
			ours += time.Since(start)
			start = time.Now()
			applyBenchSet(b, kubeconfig, mine.dir, inv)
			oursRe += time.Since(start)
			mine.inv = inv
		}
		runKubectl := func() {
			crds, workload := filepath.Join(other.dir, "crds.yaml"), filepath.Join(other.dir, "workload.yaml")
			start := time.Now()
			kc("apply", "--server-side", "-f", crds)
			waitStart := time.Now()
			kc("wait", "--for", "condition=Established", "--timeout", "2m", "-f", crds)
			theirsWait += time.Since(waitStart)
			kc("apply", "--server-side", "-f", workload)
			theirs += time.Since(start)
			// Unchanged: the CRDs exist, so one apply of both files will do.
			start = time.Now()
			kc("apply", "--server-side", "-f", crds, "-f", workload)
			theirsRe += time.Since(start)
			// For reference: kubectl without gzip, as chaosops on loopback.
			start = time.Now()
			kc("apply", "--server-side", "--disable-compression", "-f", crds, "-f", workload)
			theirsReNoGzip += time.Since(start)
		}
		b.StartTimer()
		// Alternate who goes first, so neither always meets a busier cluster.
		if i%2 == 0 {
			runOurs()
			b.StopTimer()
			runKubectl()
		} else {
			b.StopTimer()
			runKubectl()
			b.StartTimer()
			runOurs()
			b.StopTimer()
		}
		cleanupBenchSet(b, kubeconfig, mine, FieldManager)
		cleanupBenchSet(b, kubeconfig, other, "kubectl")
		b.StartTimer()
	}
	b.StopTimer()
	n := float64(b.N)
	b.ReportMetric(ours.Seconds()/n, "cold-s")
	b.ReportMetric(oursRe.Seconds()/n, "unchanged-s")
	b.ReportMetric(theirs.Seconds()/n, "kubectl-cold-s")
	b.ReportMetric(theirsWait.Seconds()/n, "kubectl-wait-s")
	b.ReportMetric(theirsRe.Seconds()/n, "kubectl-unchanged-s")
	b.ReportMetric(theirsReNoGzip.Seconds()/n, "kubectl-unchanged-nogzip-s")
	b.ReportMetric(ours.Seconds()/theirs.Seconds(), "cold-ratio")
	b.ReportMetric(oursRe.Seconds()/theirsRe.Seconds(), "unchanged-ratio")
	var self, children syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &self)
	syscall.Getrusage(syscall.RUSAGE_CHILDREN, &children)
	b.ReportMetric(float64(self.Maxrss)/1024, "peak-rss-MB")
	b.ReportMetric(float64(children.Maxrss)/1024, "kubectl-peak-rss-MB")
}

// benchSet is one rendered copy of the benchmark objects.
type benchSet struct {
	dir   string // holds crds.yaml and workload.yaml
	group string
	inv   *Inventory
}

// renderBenchSet writes the CRDs renamed to a fresh group and the workload
// for a fresh namespace.
func renderBenchSet(b *testing.B, tmpl *template.Template, crdText []byte) *benchSet {
	b.Helper()
	id := fmt.Sprintf("b%06d", rand.IntN(1000000))
	s := &benchSet{dir: b.TempDir(), group: id + ".bench.chaosops.test"}
	crds := bytes.ReplaceAll(crdText, []byte("chaos-mesh.org"), []byte(s.group))
	seq := func(n int) []int {
		out := make([]int, n)
		for i := range out {
			out[i] = i + 1
		}
		return out
	}
	var w bytes.Buffer
	err := tmpl.Execute(&w, map[string]any{"ns": "bench-" + id, "prefix": "bench-" + id, "group": s.group,
		"three": seq(3), "five": seq(5), "six": seq(6), "eight": seq(8), "fifteen": seq(15)})
	if err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(s.dir, "crds.yaml"), crds, 0o600); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(s.dir, "workload.yaml"), w.Bytes(), 0o600); err != nil {
		b.Fatal(err)
	}
	return s
}

// applyBenchSet is what `chaosops apply -f dir` does: connect, load, apply.
func applyBenchSet(b *testing.B, kubeconfig, dir string, prev *Inventory) *Inventory {
	b.Helper()
	ctx := b.Context()
	c, err := Connect(ctx, ConnOptions{Kubeconfig: kubeconfig})
	if err != nil {
		b.Fatal(err)
	}
	objs, err := manifest.Load(ctx, []manifest.Source{{Path: dir}}, manifest.Options{})
	if err != nil {
		b.Fatal(err)
	}
	if len(objs) != 91 {
		b.Fatalf("%d objects, want 91", len(objs))
	}
	return applyAndCheck(b, c, objs, ApplyOptions{Inventory: prev, Prune: true})
}

// applyAndCheck applies objs and, for a re-apply (opts.Inventory set),
// fails unless every object was unchanged.
func applyAndCheck(b *testing.B, c *Client, objs []manifest.Object, opts ApplyOptions) *Inventory {
	b.Helper()
	prev := opts.Inventory
	res, err := NewManager(c, nil).Apply(b.Context(), objs, opts)
	if err != nil {
		b.Fatal(err)
	}
	if prev != nil {
		if n := res.ChangeSet.Count(Unchanged); n != len(objs) {
			b.Fatalf("re-apply: %d unchanged, want %d:\n%s", n, len(objs), res.ChangeSet)
		}
	}
	return &res.Inventory
}

// cleanupBenchSet deletes a set applied by manager (chaosops or kubectl).
func cleanupBenchSet(b *testing.B, kubeconfig string, s *benchSet, manager string) {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.WithoutCancel(b.Context()), 3*time.Minute)
	defer cancel()
	c, err := Connect(ctx, ConnOptions{Kubeconfig: kubeconfig})
	if err != nil {
		b.Fatal(err)
	}
	opts := DeleteOptions{Inventory: s.inv, FieldManager: manager, Timeout: 2 * time.Minute}
	if s.inv == nil {
		if opts.Objects, err = manifest.Load(ctx, []manifest.Source{{Path: s.dir}}, manifest.Options{}); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := NewManager(c, nil).Delete(ctx, opts); err != nil {
		b.Fatalf("cleanup: %v", err)
	}
}

// findKubectl prefers the kubectl built by scripts/testenv.sh (same version
// as the API server), else the one on PATH.
func findKubectl(b *testing.B) string {
	b.Helper()
	cache := os.Getenv("CHAOSOPS_CACHE")
	if cache == "" {
		home, _ := os.UserHomeDir()
		cache = filepath.Join(home, ".cache", "chaosops")
	}
	if m, _ := filepath.Glob(filepath.Join(cache, "kube-*", "bin", "kubectl")); len(m) > 0 {
		return m[len(m)-1]
	}
	p, err := exec.LookPath("kubectl")
	if err != nil {
		b.Skip("no kubectl to compare with")
	}
	return p
}

// BenchmarkApplyArgoCD applies Argo CD's release install manifests
// (shared/bench/argocd-v3.5.1-install.yaml: 59 objects, 3 of them CRDs,
// 1.9 MB) into a namespace, cold and then unchanged, as
// `chaosops apply -n NS -f install.yaml` does, and in the same iteration
// times kubectl's recipe from Argo CD's docs, `kubectl apply --server-side
// -n NS -f install.yaml`, cold and unchanged. The two sides run one after
// the other, each on a clean cluster (the CRDs, ClusterRoles and
// ClusterRoleBindings have fixed names), in a fresh namespace each.
//
//	go test ./plugin/kube -run '^$' -bench BenchmarkApplyArgoCD -benchtime 3x
func BenchmarkApplyArgoCD(b *testing.B) {
	kubeconfig := testenv.Kubeconfig(b)
	kubectl := findKubectl(b)
	src := filepath.Join(testenv.SharedDir(b), "bench", "argocd-v3.5.1-install.yaml")
	cacheDir := b.TempDir()
	kc := func(args ...string) {
		b.Helper()
		cmd := exec.Command(kubectl, append([]string{"--kubeconfig", kubeconfig, "--cache-dir", cacheDir}, args...)...)
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	kc("api-resources", "-o", "name")
	load := func(c *Client) []manifest.Object {
		objs, err := manifest.Load(b.Context(), []manifest.Source{{Path: src}}, manifest.Options{})
		if err != nil {
			b.Fatal(err)
		}
		if len(objs) != 59 {
			b.Fatalf("%d objects, want 59", len(objs))
		}
		return objs
	}
	connect := func() *Client {
		c, err := Connect(b.Context(), ConnOptions{Kubeconfig: kubeconfig})
		if err != nil {
			b.Fatal(err)
		}
		return c
	}
	cleanup := func(ns, manager string, inv *Inventory) {
		c := connect()
		opts := DeleteOptions{Inventory: inv, FieldManager: manager, DefaultNamespace: ns, Timeout: 2 * time.Minute}
		if inv == nil {
			opts.Objects = load(c)
		}
		if _, err := NewManager(c, nil).Delete(b.Context(), opts); err != nil {
			b.Fatalf("cleanup: %v", err)
		}
		kc("delete", "namespace", ns, "--wait=false")
	}

	var ours, oursRe, theirs, theirsRe time.Duration
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		id := fmt.Sprintf("%06d", rand.IntN(1000000))
		nsOurs, nsTheirs := "argocd-"+id+"a", "argocd-"+id+"b"
		runOurs := func() {
			kc("create", "namespace", nsOurs)
			b.StartTimer()
			start := time.Now()
			c := connect()
			inv := applyAndCheck(b, c, load(c), ApplyOptions{DefaultNamespace: nsOurs, Prune: true})
			ours += time.Since(start)
			start = time.Now()
			c = connect()
			inv = applyAndCheck(b, c, load(c), ApplyOptions{DefaultNamespace: nsOurs, Prune: true, Inventory: inv})
			oursRe += time.Since(start)
			b.StopTimer()
			cleanup(nsOurs, FieldManager, inv)
		}
		runKubectl := func() {
			kc("create", "namespace", nsTheirs)
			start := time.Now()
			kc("apply", "--server-side", "-n", nsTheirs, "-f", src)
			theirs += time.Since(start)
			start = time.Now()
			kc("apply", "--server-side", "-n", nsTheirs, "-f", src)
			theirsRe += time.Since(start)
			cleanup(nsTheirs, "kubectl", nil)
		}
		if i%2 == 0 {
			runOurs()
			runKubectl()
		} else {
			runKubectl()
			runOurs()
		}
		b.StartTimer()
	}
	b.StopTimer()
	n := float64(b.N)
	b.ReportMetric(ours.Seconds()/n, "cold-s")
	b.ReportMetric(oursRe.Seconds()/n, "unchanged-s")
	b.ReportMetric(theirs.Seconds()/n, "kubectl-cold-s")
	b.ReportMetric(theirsRe.Seconds()/n, "kubectl-unchanged-s")
	b.ReportMetric(ours.Seconds()/theirs.Seconds(), "cold-ratio")
	b.ReportMetric(oursRe.Seconds()/theirsRe.Seconds(), "unchanged-ratio")
}
