package kube

import (
	"log/slog"
	"os"
	"testing"
	"text/template"
	"time"

	"github.com/cloudify-chaos/chaosops/plugin/internal/testenv"
	"github.com/cloudify-chaos/chaosops/plugin/kube/manifest"
)

func BenchmarkZZCold(b *testing.B) {
	kubeconfig := testenv.Kubeconfig(b)
	crdText, _ := os.ReadFile(sharedDir(b) + "/crds/chaos-mesh-crd.yaml")
	tmpl := template.Must(template.New("workload.yaml.tmpl").Option("missingkey=error").ParseFiles("testdata/bench/workload.yaml.tmpl"))
	s := renderBenchSet(b, tmpl, crdText)
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug, ReplaceAttr: func(g []string, a slog.Attr) slog.Attr {
		if a.Key == "level" {
			return slog.Attr{}
		}
		return a
	}}))
	for i := 0; i < 2; i++ {
		t0 := time.Now()
		c, _ := Connect(b.Context(), ConnOptions{Kubeconfig: kubeconfig})
		t1 := time.Now()
		objs, _ := manifest.Load(b.Context(), []manifest.Source{{Path: s.dir}}, manifest.Options{})
		t2 := time.Now()
		res, err := NewManager(c, log).Apply(b.Context(), objs, ApplyOptions{Inventory: s.inv})
		if err != nil {
			b.Fatal(err)
		}
		s.inv = &res.Inventory
		b.Logf("connect %s load %s apply %s: %s", t1.Sub(t0), t2.Sub(t1), time.Since(t2), res.ChangeSet.Summary())
	}
	cleanupBenchSet(b, kubeconfig, s, FieldManager)
}
