// Package apprig gives integration tests an app whose HTTP faults are
// real: a namespace on the test control plane opted in to the real Chaos
// Mesh controller, one Running (kwok) pod app=demo whose port 8080 is a
// real local HTTP app behind a fault proxy, which the chaos-daemon
// stand-in drives (the STAND-IN for chaos-daemon's HTTP injection), and
// optionally a real Prometheus scraping the app.
package apprig

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"

	"github.com/cloudify-chaos/chaosops/plugin/internal/promenv"
	"github.com/cloudify-chaos/chaosops/plugin/internal/standin/chaosdaemon"
	"github.com/cloudify-chaos/chaosops/plugin/internal/standin/tproxy"
	"github.com/cloudify-chaos/chaosops/plugin/internal/testenv"
	"github.com/cloudify-chaos/chaosops/plugin/report"
)

// RequestsMetric counts the app's requests by path (label "path").
const RequestsMetric = "app_requests_total"

// Rig is one test's app.
type Rig struct {
	Config    *rest.Config
	Dynamic   dynamic.Interface
	Namespace string
	// ProxyURL is the app through its fault proxy: what clients call.
	ProxyURL string
	// PrometheusURL is set when Options.Prometheus was.
	PrometheusURL string
}

// Options of New.
type Options struct {
	// Prometheus starts a real Prometheus scraping the app every second
	// and waits until the app is up in it.
	Prometheus bool
}

// New builds the rig; everything stops when t ends.
func New(t testing.TB, opts Options) *Rig {
	t.Helper()
	cfg := testenv.Config(t)
	cfg.QPS, cfg.Burst = 100, 200
	ns := testenv.Namespace(t, cfg)
	dyn := testenv.DemoApp(t, cfg, ns, 1)
	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() { stop(); wg.Wait() })

	// The real controller filters namespaces (ENABLE_FILTER_NAMESPACE, as
	// the bundle installs it): opt this one in. It asks the chaos-daemon
	// stand-in, which drives the pod's fault proxy.
	testenv.OptIn(t, cfg, ns)

	reg := prometheus.NewRegistry()
	requests := prometheus.NewCounterVec(prometheus.CounterOpts{Name: RequestsMetric, Help: "requests by path"}, []string{"path"})
	reg.MustRegister(requests)
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		requests.WithLabelValues(r.URL.Path).Inc()
		fmt.Fprintln(w, "ok")
	})
	app := httptest.NewServer(mux)
	t.Cleanup(app.Close)

	fp, err := tproxy.New(tproxy.Options{Listen: "127.0.0.1:0", Admin: "127.0.0.1:0", Upstream: app.URL, Port: 8080, Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	wg.Add(1)
	go func() { defer wg.Done(); _ = fp.Serve(ctx) }()
	pods := schema.GroupVersionResource{Version: "v1", Resource: "pods"}
	list, err := dyn.Resource(pods).Namespace(ns).List(t.Context(), metav1.ListOptions{LabelSelector: "app=demo"})
	if err != nil || len(list.Items) != 1 {
		t.Fatalf("demo pod: %v (%d pods)", err, len(list.Items))
	}
	patch(t, dyn, pods, ns, list.Items[0].GetName(),
		fmt.Sprintf(`{"metadata":{"annotations":{%q:%q}}}`, chaosdaemon.FaultProxyAnnotation, fp.AdminURL()))

	r := &Rig{Config: cfg, Dynamic: dyn, Namespace: ns, ProxyURL: "http://" + fp.Addr()}
	if opts.Prometheus {
		r.PrometheusURL = promenv.Start(t, strings.TrimPrefix(app.URL, "http://"))
		promenv.WaitForSeries(t, r.PrometheusURL, "up == 1")
	}
	return r
}

func patch(t testing.TB, dyn dynamic.Interface, gvr schema.GroupVersionResource, ns, name, body string) {
	t.Helper()
	if _, err := dyn.Resource(gvr).Namespace(ns).Patch(t.Context(), name, types.MergePatchType, []byte(body), metav1.PatchOptions{}); err != nil {
		t.Fatalf("patch %s %s: %v", gvr.Resource, name, err)
	}
}

// ChaosObjects counts the HTTPChaos objects left in the rig's namespace.
func (r *Rig) ChaosObjects(t testing.TB) int {
	t.Helper()
	gvr := schema.GroupVersionResource{Group: "chaos-mesh.org", Version: "v1alpha1", Resource: "httpchaos"}
	l, err := r.Dynamic.Resource(gvr).Namespace(r.Namespace).List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return len(l.Items)
}

// CheckTrafficShape checks that the named probe's success rate is high before the object
// exists, near zero while all targets are injected, and high again after
// recovery.
func CheckTrafficShape(t testing.TB, j *report.Journal, probe string) {
	t.Helper()
	from, to := j.Run.InjectionWindow()
	var rate [3]struct{ sent, ok int }
	for _, p := range j.Traffic {
		if p.Probe != probe {
			continue
		}
		// A point counts the requests sent in [At, At+1s); points that
		// straddle an edge of the window are left out.
		end := p.At.Add(time.Second)
		var i int
		switch {
		case !end.After(j.Run.Created): // no fault can exist before its object
			i = 0
		case !p.At.Before(from) && !end.After(to):
			i = 1
		case !p.At.Before(to):
			i = 2
		default:
			continue
		}
		rate[i].sent += p.Sent
		rate[i].ok += p.OK
	}
	for i, want := range []struct {
		name     string
		min, max float64
	}{{"before", 0.9, 1}, {"during", 0, 0.1}, {"after", 0.9, 1}} {
		if rate[i].sent == 0 {
			t.Errorf("no traffic %s the injection", want.name)
			continue
		}
		got := float64(rate[i].ok) / float64(rate[i].sent)
		if got < want.min || got > want.max {
			t.Errorf("success rate %s the injection %.2f (%d/%d), want %.2f–%.2f", want.name, got, rate[i].ok, rate[i].sent, want.min, want.max)
		}
	}
	if t.Failed() {
		t.Logf("window %s – %s", from.Format(time.StampMilli), to.Format(time.StampMilli))
		for _, p := range j.Traffic {
			t.Logf("%s %s sent %d ok %d dropped %d", p.At.Format(time.StampMilli), p.Probe, p.Sent, p.OK, p.Dropped)
		}
	}
}
