package grafana

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"text/template"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
	"gopkg.in/yaml.v3"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/cloudify-chaos/chaosops/plugin/internal/promenv"
	"github.com/cloudify-chaos/chaosops/plugin/kube/manifest"
)

// rateInterval stands for Grafana's $__rate_interval: at least four scrape
// intervals (the test scrapes every second).
const rateInterval = "10s"

// queryWait bounds the wait for a query to return data.
const queryWait = 45 * time.Second

// TestDashboardQueriesOnPrometheus runs every query of the shipped
// dashboard, its variables and each panel's targets, on a real Prometheus
// scraping the real demo app (examples/python-prometheus/app.py, Debian's
// Flask and prometheus_client) under traffic. The scrape config reproduces
// what prometheus-operator generates for the app's ServiceMonitor
// (manifests/python-prometheus) on kube-prometheus' Prometheus, which
// discovers targets through EndpointSlices: a static target carrying the
// __meta_kubernetes_* labels service discovery would set for one of the
// app's pods, and the operator's relabel rules for that endpoint.
func TestDashboardQueriesOnPrometheus(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: starts the demo app and a real Prometheus (skipped under -short)")
	}
	const ns = "python-prometheus"
	tg := serviceMonitorTarget(t, ns)
	addr := startDemoApp(t)
	tg.Address = addr
	tg.Want["instance"] = addr
	scrape, err := yaml.Marshal([]any{tg.scrapeConfig()})
	if err != nil {
		t.Fatal(err)
	}
	promURL := promenv.StartWithScrapeConfigs(t, string(scrape))
	sendTraffic(t, "http://"+addr)
	client, err := api.NewClient(api.Config{Address: promURL})
	if err != nil {
		t.Fatal(err)
	}
	prom := v1.NewAPI(client)

	t.Run("the app's series carry the labels the operator's relabeling attaches", func(t *testing.T) {
		vec := waitForData(t, prom, `http_requests_total{path="/api/orders"}`)
		got := map[string]string{}
		for name, value := range vec[0].Metric {
			if name != model.MetricNameLabel && !slices.Contains(appLabels, string(name)) {
				got[string(name)] = string(value)
			}
		}
		if diff := cmp.Diff(tg.Want, got); diff != "" {
			t.Errorf("target labels (-want +got):\n%s\nscrape config:\n%s", diff, scrape)
		}
		names := make([]string, 0, len(got))
		for name := range got {
			names = append(names, name)
		}
		sort.Strings(names)
		want := slices.Clone(targetLabels)
		sort.Strings(want)
		if diff := cmp.Diff(want, names); diff != "" {
			t.Errorf("targetLabels of dashboard_test.go differ from the labels Prometheus attaches (-targetLabels +attached):\n%s", diff)
		}
	})

	vars := dashboardVariables(t)
	chosen := map[string]string{}
	t.Run("the variables list the app's namespace and service", func(t *testing.T) {
		for _, v := range vars {
			selector := interpolate(t, v.Selector, vars, chosen, false)
			values := waitForLabelValues(t, prom, v.Label, selector)
			want, ok := tg.Want[v.Label]
			if !ok {
				t.Errorf("variable %s lists label %s, which the app's targets do not have", v.Name, v.Label)
				continue
			}
			if !slices.Contains(values, want) {
				t.Errorf("variable %s (label_values(%s, %s)) lists %q, not %q", v.Name, selector, v.Label, values, want)
			}
			chosen[v.Name] = want
		}
	})
	if t.Failed() {
		return
	}

	d := loadDashboard(t)
	for _, all := range []bool{false, true} {
		choice := "the app's namespace and service selected"
		if all {
			choice = "All selected"
		}
		for _, p := range d.Panels {
			for _, target := range p.Targets {
				t.Run(fmt.Sprintf("panel %q returns data with %s", p.Title, choice), func(t *testing.T) {
					expr := interpolate(t, target.Expr, vars, chosen, all)
					vec := waitForData(t, prom, expr)
					t.Logf("%s: %d series, e.g. %s", expr, len(vec), vec[0])
				})
			}
		}
	}
}

// target is the one scrape target the test stands in for: one pod of the
// app's Service, as EndpointSlice discovery presents it.
type target struct {
	Job     string
	Address string
	Path    string
	// Meta are the __meta_kubernetes_* labels of the target.
	Meta map[string]string
	// Relabel are the operator's relabel rules for the endpoint.
	Relabel []relabelRule
	// Want are the target labels Prometheus must end up with.
	Want map[string]string
}

// relabelRule is one entry of relabel_configs.
type relabelRule struct {
	SourceLabels []string `yaml:"source_labels,omitempty"`
	Separator    string   `yaml:"separator,omitempty"`
	Regex        string   `yaml:"regex,omitempty"`
	Modulus      uint64   `yaml:"modulus,omitempty"`
	TargetLabel  string   `yaml:"target_label,omitempty"`
	Replacement  string   `yaml:"replacement,omitempty"`
	Action       string   `yaml:"action,omitempty"`
}

func (tg target) scrapeConfig() map[string]any {
	return map[string]any{
		"job_name":     tg.Job,
		"honor_labels": false,
		"metrics_path": tg.Path,
		// The ServiceMonitor's interval would only slow the test down; the
		// labels do not depend on it.
		"scrape_interval": "1s",
		"static_configs":  []any{map[string]any{"targets": []string{tg.Address}, "labels": tg.Meta}},
		"relabel_configs": tg.Relabel,
	}
}

// serviceMonitorTarget reads the app's ServiceMonitor, Service and
// Deployment (manifests/python-prometheus, rendered for namespace ns) and
// builds the target and relabel rules prometheus-operator generates for
// them (pkg/prometheus/promcfg.go, generateServiceMonitorConfig, with
// serviceDiscoveryRole EndpointSlice as kube-prometheus sets it). A
// ServiceMonitor feature the rules here do not model fails the test.
func serviceMonitorTarget(t *testing.T, ns string) target {
	t.Helper()
	sm := appObject(t, "servicemonitor.yaml", "ServiceMonitor", ns)
	svc := appObject(t, "service.yaml", "Service", ns)
	dep := appObject(t, "deployment.yaml", "Deployment", ns)

	for _, f := range [][]string{{"spec", "jobLabel"}, {"spec", "targetLabels"}, {"spec", "podTargetLabels"}, {"spec", "selector", "matchExpressions"}, {"spec", "namespaceSelector"}, {"spec", "attachMetadata"}} {
		if _, found, _ := unstructured.NestedFieldNoCopy(sm.Object, f...); found {
			t.Fatalf("servicemonitor.yaml sets %s, which changes the target labels and is not modelled here: extend serviceMonitorTarget", strings.Join(f, "."))
		}
	}
	endpoints, _, _ := unstructured.NestedSlice(sm.Object, "spec", "endpoints")
	if len(endpoints) != 1 {
		t.Fatalf("servicemonitor.yaml has %d endpoints; the dashboard test models exactly one", len(endpoints))
	}
	ep, _ := endpoints[0].(map[string]any)
	for _, k := range []string{"relabelings", "metricRelabelings", "honorLabels", "targetPort", "filterRunning"} {
		if _, ok := ep[k]; ok {
			t.Fatalf("servicemonitor.yaml endpoint sets %s, which is not modelled here: extend serviceMonitorTarget", k)
		}
	}
	portName, _ := ep["port"].(string)
	metricsPath, _ := ep["path"].(string)
	if portName == "" {
		t.Fatal("servicemonitor.yaml endpoint names no port")
	}
	if metricsPath == "" {
		metricsPath = "/metrics"
	}
	selector, _, _ := unstructured.NestedStringMap(sm.Object, "spec", "selector", "matchLabels")
	for k, v := range selector {
		if svc.GetLabels()[k] != v {
			t.Fatalf("the ServiceMonitor selects %s=%s, which Service/%s/%s does not carry: it would scrape nothing", k, v, ns, svc.GetName())
		}
	}

	// The Service port the endpoint names, and the pod's container port behind it.
	var targetPort any
	ports, _, _ := unstructured.NestedSlice(svc.Object, "spec", "ports")
	for _, p := range ports {
		pm, _ := p.(map[string]any)
		if pm["name"] == portName {
			targetPort = pm["targetPort"]
		}
	}
	if targetPort == nil {
		t.Fatalf("Service/%s/%s has no port named %s, which the ServiceMonitor's endpoint scrapes", ns, svc.GetName(), portName)
	}
	podLabels, _, _ := unstructured.NestedStringMap(dep.Object, "spec", "template", "metadata", "labels")
	svcSelector, _, _ := unstructured.NestedStringMap(svc.Object, "spec", "selector")
	for k, v := range svcSelector {
		if podLabels[k] != v {
			t.Fatalf("Service/%s/%s selects %s=%s, which the pods of Deployment/%s/%s do not carry", ns, svc.GetName(), k, v, ns, dep.GetName())
		}
	}
	containerName, containerPort := "", int64(0)
	containers, _, _ := unstructured.NestedSlice(dep.Object, "spec", "template", "spec", "containers")
	for _, c := range containers {
		cm, _ := c.(map[string]any)
		cports, _ := cm["ports"].([]any)
		for _, p := range cports {
			pm, _ := p.(map[string]any)
			number, _ := pm["containerPort"].(int64)
			if pm["name"] == targetPort || number == toInt64(targetPort) {
				containerName, _ = cm["name"].(string)
				containerPort = number
			}
		}
	}
	if containerName == "" {
		t.Fatalf("no container of Deployment/%s/%s has the port %v that Service port %s targets", ns, dep.GetName(), targetPort, portName)
	}

	pod := dep.GetName() + "-7c9d8b6f5-x2k4q"
	meta := map[string]string{
		"__meta_kubernetes_namespace":                               ns,
		"__meta_kubernetes_service_name":                            svc.GetName(),
		"__meta_kubernetes_endpointslice_name":                      svc.GetName() + "-m7w2p",
		"__meta_kubernetes_endpointslice_address_target_kind":       "Pod",
		"__meta_kubernetes_endpointslice_address_target_name":       pod,
		"__meta_kubernetes_endpointslice_endpoint_conditions_ready": "true",
		"__meta_kubernetes_endpointslice_port_name":                 portName,
		"__meta_kubernetes_endpointslice_port":                      strconv.FormatInt(containerPort, 10),
		"__meta_kubernetes_endpointslice_port_protocol":             "TCP",
		"__meta_kubernetes_pod_name":                                pod,
		"__meta_kubernetes_pod_phase":                               "Running",
		"__meta_kubernetes_pod_ready":                               "true",
		"__meta_kubernetes_pod_container_name":                      containerName,
		"__meta_kubernetes_pod_container_port_number":               strconv.FormatInt(containerPort, 10),
		"__meta_kubernetes_pod_container_port_protocol":             "TCP",
	}
	if name, ok := targetPort.(string); ok {
		meta["__meta_kubernetes_pod_container_port_name"] = name
	}
	for k, v := range svc.GetLabels() {
		meta["__meta_kubernetes_service_label_"+sanitizeLabel(k)] = v
		meta["__meta_kubernetes_service_labelpresent_"+sanitizeLabel(k)] = "true"
	}
	for k, v := range podLabels {
		meta["__meta_kubernetes_pod_label_"+sanitizeLabel(k)] = v
		meta["__meta_kubernetes_pod_labelpresent_"+sanitizeLabel(k)] = "true"
	}

	// The operator's rules, in its order.
	rules := []relabelRule{{SourceLabels: []string{"job"}, TargetLabel: "__tmp_prometheus_job_name"}}
	keys := make([]string, 0, len(selector))
	for k := range selector {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		rules = append(rules, relabelRule{Action: "keep",
			SourceLabels: []string{"__meta_kubernetes_service_label_" + sanitizeLabel(k), "__meta_kubernetes_service_labelpresent_" + sanitizeLabel(k)},
			Regex:        "(" + selector[k] + ");true"})
	}
	address := []string{"__meta_kubernetes_endpointslice_address_target_kind", "__meta_kubernetes_endpointslice_address_target_name"}
	rules = append(rules,
		relabelRule{Action: "keep", SourceLabels: []string{"__meta_kubernetes_endpointslice_port_name"}, Regex: portName},
		relabelRule{SourceLabels: address, Separator: ";", Regex: "Node;(.*)", Replacement: "${1}", TargetLabel: "node"},
		relabelRule{SourceLabels: address, Separator: ";", Regex: "Pod;(.*)", Replacement: "${1}", TargetLabel: "pod"},
		relabelRule{SourceLabels: []string{"__meta_kubernetes_namespace"}, TargetLabel: "namespace"},
		relabelRule{SourceLabels: []string{"__meta_kubernetes_service_name"}, TargetLabel: "service"},
		relabelRule{SourceLabels: []string{"__meta_kubernetes_pod_name"}, TargetLabel: "pod"},
		relabelRule{SourceLabels: []string{"__meta_kubernetes_pod_container_name"}, TargetLabel: "container"},
		relabelRule{Action: "drop", SourceLabels: []string{"__meta_kubernetes_pod_phase"}, Regex: "(Failed|Succeeded)"},
		relabelRule{SourceLabels: []string{"__meta_kubernetes_service_name"}, TargetLabel: "job", Replacement: "${1}"},
		relabelRule{TargetLabel: "endpoint", Replacement: portName},
		// One shard: the config reloader puts 0 where the operator writes $(SHARD).
		relabelRule{Action: "hashmod", SourceLabels: []string{"__address__"}, TargetLabel: "__tmp_hash", Modulus: 1},
		relabelRule{Action: "keep", SourceLabels: []string{"__tmp_hash"}, Regex: "0"},
	)
	return target{
		Job:     fmt.Sprintf("serviceMonitor/%s/%s/0", ns, sm.GetName()),
		Path:    metricsPath,
		Meta:    meta,
		Relabel: rules,
		Want: map[string]string{"namespace": ns, "service": svc.GetName(), "pod": pod, "job": svc.GetName(),
			"endpoint": portName, "container": containerName},
	}
}

// appObject reads manifests/python-prometheus/NAME as the blueprint
// renders it for namespace ns. Values other than the namespace render
// empty: only names, labels and ports matter here.
func appObject(t *testing.T, name, kind, ns string) *unstructured.Unstructured {
	t.Helper()
	file := filepath.Join(manifests(t), "..", "python-prometheus", name)
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := template.New(name).Parse(string(data))
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := tmpl.Execute(&b, map[string]any{"namespace": ns}); err != nil {
		t.Fatal(err)
	}
	objs, err := manifest.Parse(name, b.Bytes(), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range objs {
		if o.GetKind() == kind {
			return o.Unstructured
		}
	}
	t.Fatalf("%s has no %s", file, kind)
	return nil
}

var notLabelChar = regexp.MustCompile(`[^a-zA-Z0-9_]`)

// sanitizeLabel turns a Kubernetes label key into the suffix Prometheus
// service discovery uses for it.
func sanitizeLabel(k string) string { return notLabelChar.ReplaceAllString(k, "_") }

func toInt64(v any) int64 {
	switch n := v.(type) {
	case int64:
		return n
	case float64:
		return int64(n)
	}
	return -1
}

// startDemoApp runs examples/python-prometheus/app.py on a free loopback
// port until the test ends and returns host:port once /health answers.
func startDemoApp(t *testing.T) string {
	t.Helper()
	const python = "/usr/bin/python3"
	if out, err := exec.Command(python, "-c", "import flask, prometheus_client").CombinedOutput(); err != nil {
		t.Fatalf("%s cannot import the app's requirements: %v\n%s\ninstall them: apt-get install -y python3-flask python3-prometheus-client", python, err, out)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	app := filepath.Join(manifests(t), "..", "..", "examples", "python-prometheus", "app.py")
	cmd := exec.Command(python, app)
	// app.py listens on 0.0.0.0; the port is only used on loopback.
	cmd.Env = append(os.Environ(), "PORT="+strconv.Itoa(port), "PYTHONDONTWRITEBYTECODE=1")
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	})
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	c := http.Client{Timeout: time.Second}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		select {
		case err := <-done:
			t.Fatalf("app.py exited: %v\n%s", err, logs.String())
		default:
		}
		if resp, err := c.Get("http://" + addr + "/health"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return addr
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("app.py does not answer /health on %s after 30s:\n%s", addr, logs.String())
		}
	}
}

// sendTraffic requests the app's routes, and an unrouted path, about 20
// times a second until the test ends.
func sendTraffic(t *testing.T, base string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	t.Cleanup(func() { cancel(); <-stopped })
	go func() {
		defer close(stopped)
		c := http.Client{Timeout: 2 * time.Second}
		paths := []string{"/", "/api/orders", "/health", "/missing"}
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for i := 0; i < 20*600; i++ { // at most ten minutes
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+paths[i%len(paths)], nil)
			if resp, err := c.Do(req); err == nil {
				resp.Body.Close()
			}
		}
	}()
}

// waitForData runs expr until it returns at least one finite sample.
func waitForData(t *testing.T, prom v1.API, expr string) model.Vector {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), queryWait)
	defer cancel()
	last := "no answer yet"
	for {
		v, _, _, err := prom.Query(ctx, expr, time.Now())
		switch {
		case err != nil:
			last = err.Error()
		case v.Type() != model.ValVector:
			last = "not a vector: " + v.String()
		default:
			var finite model.Vector
			for _, s := range v.(model.Vector) {
				if f := float64(s.Value); !math.IsNaN(f) && !math.IsInf(f, 0) {
					finite = append(finite, s)
				}
			}
			if len(finite) > 0 {
				return finite
			}
			last = "no finite sample: " + v.String()
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s returns no data after %s (last: %s)", expr, queryWait, last)
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// waitForLabelValues runs a label_values variable query the way Grafana
// does (the label values API with a match[] selector) until it answers.
func waitForLabelValues(t *testing.T, prom v1.API, label, selector string) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), queryWait)
	defer cancel()
	last := "no answer yet"
	for {
		values, _, _, err := prom.LabelValues(ctx, label, []string{selector}, time.Now().Add(-time.Hour), time.Now())
		if err == nil && len(values) > 0 {
			out := make([]string, len(values))
			for i, v := range values {
				out[i] = string(v)
			}
			return out
		}
		if err != nil {
			last = err.Error()
		} else {
			last = "no values"
		}
		select {
		case <-ctx.Done():
			t.Fatalf("label_values(%s, %s) lists nothing after %s (last: %s)", selector, label, queryWait, last)
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// variable is a dashboard query variable of the form
// label_values(SELECTOR, LABEL).
type variable struct {
	Name, Selector, Label, AllValue string
}

var labelValues = regexp.MustCompile(`^label_values\((.+),\s*([A-Za-z_][A-Za-z0-9_]*)\)$`)

// dashboardVariables reads the query variables of the dashboard, in order.
func dashboardVariables(t *testing.T) []variable {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(manifests(t), "chaosops-dashboard.json"))
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Templating struct {
			List []struct {
				Name       string `json:"name"`
				Type       string `json:"type"`
				Definition string `json:"definition"`
				AllValue   string `json:"allValue"`
				IncludeAll bool   `json:"includeAll"`
			} `json:"list"`
		} `json:"templating"`
	}
	if err := json.Unmarshal(data, &d); err != nil {
		t.Fatal(err)
	}
	var out []variable
	for _, v := range d.Templating.List {
		if v.Type != "query" {
			continue
		}
		m := labelValues.FindStringSubmatch(strings.TrimSpace(v.Definition))
		if m == nil {
			t.Fatalf("variable %s: %q is not label_values(SELECTOR, LABEL), the only form this test runs", v.Name, v.Definition)
		}
		if !v.IncludeAll || v.AllValue == "" {
			t.Fatalf("variable %s has no All option with an allValue; the panels' =~ matchers expect one", v.Name)
		}
		out = append(out, variable{Name: v.Name, Selector: m[1], Label: m[2], AllValue: v.AllValue})
	}
	if len(out) == 0 {
		t.Fatal("the dashboard has no query variable")
	}
	return out
}

var (
	varRef      = regexp.MustCompile(`\$\{([A-Za-z0-9_]+)(?::[^}]*)?\}|\$([A-Za-z0-9_]+)|\[\[([A-Za-z0-9_]+)\]\]`)
	builtinVars = map[string]string{"__rate_interval": rateInterval, "__interval": "2s", "__range": "5m"}
)

// interpolate replaces variables as Grafana does before it sends a query:
// the chosen value, regex-escaped (the panels match with =~), or with
// all the variable's allValue; built-in intervals get fixed durations.
// An unknown variable fails the test.
func interpolate(t *testing.T, expr string, vars []variable, chosen map[string]string, all bool) string {
	t.Helper()
	return varRef.ReplaceAllStringFunc(expr, func(ref string) string {
		m := varRef.FindStringSubmatch(ref)
		name := m[1] + m[2] + m[3]
		if v, ok := builtinVars[name]; ok {
			return v
		}
		for _, v := range vars {
			if v.Name != name {
				continue
			}
			if all {
				return v.AllValue
			}
			if value, ok := chosen[name]; ok {
				return regexp.QuoteMeta(value)
			}
			t.Fatalf("%s uses $%s before the variable has a value (variables are resolved in dashboard order)", expr, name)
		}
		t.Fatalf("%s uses $%s, which is neither a query variable of the dashboard nor a known built-in", expr, name)
		return ref
	})
}

// loadDashboard reads the shipped dashboard.
func loadDashboard(t *testing.T) dashboard {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(manifests(t), "chaosops-dashboard.json"))
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard
	if err := json.Unmarshal(data, &d); err != nil {
		t.Fatal(err)
	}
	if len(d.Panels) == 0 {
		t.Fatal("the dashboard has no panel")
	}
	return d
}
