package operations_test

import (
	"fmt"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cloudify-chaos/chaosops/plugin/chaos"
	"github.com/cloudify-chaos/chaosops/plugin/chaos/api"
	"github.com/cloudify-chaos/chaosops/plugin/cloudify/scriptrunner"
	"github.com/cloudify-chaos/chaosops/plugin/internal/chaosbin"
	"github.com/cloudify-chaos/chaosops/plugin/internal/testenv"
	"github.com/cloudify-chaos/chaosops/plugin/report"
)

// BenchmarkChaosRunOverhead measures what a chaos run itself adds to the
// time a user waits: from the start of the operation (the script plugin
// starting the executable) to the chaos object created, and from the
// controller's AllRecovered to the end of the operation (the process
// exited with its outcome reported). Each iteration is one
// chaos_actions.run_http_chaos of 1 s through the real executable and the
// ctx proxy stand-in, against the real Chaos Mesh controller of the test
// control plane. The created and recovered instants are the run's own
// timeline (journal.json); the start and end are taken around the
// process. Also reported: the preflight's share of the start
// (ms-start-to-preflight) and the delete's share of the end
// (ms-recovered-to-deleted).
func BenchmarkChaosRunOverhead(b *testing.B) {
	cfg := testenv.Config(b)
	kubeconfig, err := os.ReadFile(testenv.Kubeconfig(b))
	if err != nil {
		b.Fatal(err)
	}
	ns := testenv.Namespace(b, cfg)
	dyn := testenv.DemoApp(b, cfg, ns, 1)
	testenv.AnnotateNamespace(b, cfg, ns, api.InjectAnnotation, "enabled")
	exe := chaosbin.Path(b)
	var toCreated, toPreflight, toFirstCall, toEnd, toDeleted time.Duration
	i := 0
	for b.Loop() {
		i++
		settled(b, dyn, ns)
		root := b.TempDir()
		reports := filepath.Join(root, "report")
		state := &scriptrunner.State{
			Operation:    scriptrunner.Operation{Name: "chaos_actions.run_http_chaos"},
			Node:         scriptrunner.Node{ID: "chaos", Type: "chaosops.nodes.Chaos"},
			Instance:     scriptrunner.Instance{ID: "chaos_bench1"},
			DeploymentID: "dep-" + ns, BlueprintID: "Python-Prometheus",
			ExecutionID: "exec-bench-" + strconv.Itoa(i) + "-" + strconv.FormatInt(time.Now().UnixNano(), 36), WorkflowID: "RunHTTPChaos",
			TenantName: "default_tenant",
		}
		p, err := scriptrunner.NewProxy(state)
		if err != nil {
			b.Fatal(err)
		}
		env := append(os.Environ(), "HOME="+root, "TMPDIR="+root, "CHAOSOPS_WORKDIR="+filepath.Join(root, "work"))
		var lines []string
		start := time.Now()
		onLine := func(l scriptrunner.LogLine) {
			if os.Getenv("CHAOSOPS_BENCH_TRACE") != "" {
				lines = append(lines, fmt.Sprintf("%8.1fms %s", float64(time.Since(start).Microseconds())/1000, l.Message))
			}
		}
		res, err := p.Run(b.Context(), scriptrunner.Spec{Executable: exe, Dir: root, Grace: 30 * time.Second, Env: env, OnLine: onLine,
			Inputs: map[string]any{
				"kubeconfig": string(kubeconfig), "namespace": ns, "selector": "app=demo", "duration": "1s", "port": int64(8080),
				"report_dir": reports,
			}})
		end := time.Now()
		if err != nil {
			b.Fatal(err)
		}
		if res.Outcome != scriptrunner.Success {
			b.Fatalf("outcome %s: %s\n%s", res.Outcome, res.Message, chaosLogs(res))
		}
		j, err := report.Load(reports)
		if err != nil {
			b.Fatal(err)
		}
		at := stepTimes(j.Run.Timeline)
		for _, s := range []chaos.Step{chaos.StepPreflight, chaos.StepCreated, chaos.StepRecovered, chaos.StepDeleted} {
			if at[s].IsZero() {
				b.Fatalf("the timeline has no %s step: %v", s, j.Run.Timeline)
			}
		}
		if len(lines) > 0 && i == 1 {
			b.Logf("trace:\n%s\nend %.1fms", strings.Join(lines, "\n"), float64(end.Sub(start).Microseconds())/1000)
		}
		toFirstCall += res.FirstCall
		toPreflight += at[chaos.StepPreflight].Sub(start)
		toCreated += at[chaos.StepCreated].Sub(start)
		toDeleted += at[chaos.StepDeleted].Sub(at[chaos.StepRecovered])
		toEnd += end.Sub(at[chaos.StepRecovered])
	}
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 / float64(b.N) }
	b.ReportMetric(ms(toCreated), "ms-start-to-created")
	b.ReportMetric(ms(toEnd), "ms-recovered-to-end")
	b.ReportMetric(ms(toFirstCall), "ms-start-to-first-ctx-call")
	b.ReportMetric(ms(toPreflight), "ms-start-to-preflight")
	b.ReportMetric(ms(toDeleted), "ms-recovered-to-deleted")
}

// stepTimes is when each step first happened.
func stepTimes(tl []chaos.Event) map[chaos.Step]time.Time {
	out := map[chaos.Step]time.Time{}
	for _, e := range tl {
		if _, ok := out[e.Step]; !ok {
			out[e.Step] = e.At
		}
	}
	return out
}

// settled waits until the controller has applied the previous run's
// removal to the pods' PodHttpChaos objects (status.observedGeneration
// reached the generation): a run created while the controller still
// updates them may wait for its injection until injection_timeout.
func settled(b *testing.B, dyn dynamic.Interface, ns string) {
	gvr := schema.GroupVersionResource{Group: "chaos-mesh.org", Version: "v1alpha1", Resource: "podhttpchaos"}
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		l, err := dyn.Resource(gvr).Namespace(ns).List(b.Context(), metav1.ListOptions{})
		if err != nil {
			b.Fatal(err)
		}
		done := true
		for _, u := range l.Items {
			seen, _, _ := unstructured.NestedInt64(u.Object, "status", "observedGeneration")
			done = done && seen >= u.GetGeneration()
		}
		if done {
			return
		}
	}
}
