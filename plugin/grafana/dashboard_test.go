package grafana

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"sort"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

var update = flag.Bool("update", false, "rewrite manifests/grafana/chaosops-dashboard-configmap.yaml from the dashboard JSON")

// manifests is the folder of the shipped dashboard.
func manifests(t *testing.T) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "manifests", "grafana")
}

// The demo app's metrics, and the labels a query may use: the app's own
// and those kube-prometheus' Prometheus attaches to every target of a
// ServiceMonitor endpoint (TestDashboardQueriesOnPrometheus checks them on
// a real Prometheus).
var (
	demoMetrics  = []string{"http_requests_total", "http_request_duration_seconds_bucket", "http_request_duration_seconds_sum", "http_request_duration_seconds_count"}
	appLabels    = []string{"path", "status", "method", "le"}
	targetLabels = []string{"namespace", "service", "pod", "job", "endpoint", "container", "instance"}
	demoLabels   = append(append([]string{}, appLabels...), targetLabels...)
)

var (
	metricRef  = regexp.MustCompile(`([A-Za-z_:][A-Za-z0-9_:]*)\s*[{\[]`)
	matcher    = regexp.MustCompile(`([A-Za-z_][A-Za-z0-9_]*)\s*(?:=~|!~|!=|=)`)
	groupingBy = regexp.MustCompile(`\b(?:by|without)\s*\(([^)]*)\)`)
	selector   = regexp.MustCompile(`\{[^}]*\}`)
)

type dashboard struct {
	UID           string `json:"uid"`
	Title         string `json:"title"`
	SchemaVersion int    `json:"schemaVersion"`
	Templating    struct {
		List []struct {
			Name, Type string
			Query      any `json:"query"`
		} `json:"list"`
	} `json:"templating"`
	Annotations struct {
		List []struct {
			Name   string `json:"name"`
			Enable bool   `json:"enable"`
			Target *struct {
				Type string   `json:"type"`
				Tags []string `json:"tags"`
			} `json:"target"`
		} `json:"list"`
	} `json:"annotations"`
	Panels []struct {
		ID         int    `json:"id"`
		Title      string `json:"title"`
		Datasource struct {
			UID string `json:"uid"`
		} `json:"datasource"`
		Targets []struct {
			Expr       string `json:"expr"`
			Datasource struct {
				Type, UID string
			} `json:"datasource"`
		} `json:"targets"`
	} `json:"panels"`
}

func TestDashboard(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(manifests(t), "chaosops-dashboard.json"))
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard
	if err := json.Unmarshal(data, &d); err != nil {
		t.Fatalf("the dashboard is not JSON: %v", err)
	}

	t.Run("it is the chaosops-demo dashboard of a current schema", func(t *testing.T) {
		if d.UID != "chaosops-demo" || d.SchemaVersion < 36 || d.SchemaVersion > 41 {
			t.Fatalf("uid %q, schemaVersion %d", d.UID, d.SchemaVersion)
		}
	})

	t.Run("a datasource variable selects the Prometheus", func(t *testing.T) {
		i := slices.IndexFunc(d.Templating.List, func(v struct {
			Name, Type string
			Query      any `json:"query"`
		}) bool {
			return v.Name == "datasource" && v.Type == "datasource" && v.Query == "prometheus"
		})
		if i < 0 {
			t.Fatalf("no datasource variable of type prometheus in %+v", d.Templating.List)
		}
	})

	t.Run("an enabled annotation query shows the chaos windows by tag", func(t *testing.T) {
		found := false
		for _, a := range d.Annotations.List {
			found = found || a.Enable && a.Target != nil && a.Target.Type == "tags" && slices.Contains(a.Target.Tags, Tag)
		}
		if !found {
			t.Fatalf("no enabled tags annotation query for %q", Tag)
		}
	})

	t.Run("every panel queries the demo app's metrics through the variable", func(t *testing.T) {
		used := map[string]bool{}
		ids := map[int]bool{}
		for _, p := range d.Panels {
			if ids[p.ID] {
				t.Errorf("panel id %d used twice", p.ID)
			}
			ids[p.ID] = true
			if len(p.Targets) == 0 {
				t.Errorf("panel %q has no target", p.Title)
			}
			for _, tg := range p.Targets {
				if strings.TrimSpace(tg.Expr) == "" || tg.Datasource.UID != "${datasource}" || p.Datasource.UID != "${datasource}" {
					t.Errorf("panel %q: target %+v needs a PromQL expr on ${datasource}", p.Title, tg)
				}
				for _, m := range metricRef.FindAllStringSubmatch(tg.Expr, -1) {
					used[m[1]] = true
					if !slices.Contains(demoMetrics, m[1]) {
						t.Errorf("panel %q queries %q, not a demo app metric (%v)", p.Title, m[1], demoMetrics)
					}
				}
				for _, l := range labelsOf(tg.Expr) {
					if !slices.Contains(demoLabels, l) {
						t.Errorf("panel %q uses label %q, not one of %v", p.Title, l, demoLabels)
					}
				}
			}
		}
		if !used["http_requests_total"] || !used["http_request_duration_seconds_bucket"] {
			t.Errorf("metrics used %v; want the counter and the histogram", used)
		}
	})

	t.Run("request rate, success rate and p95 latency have panels", func(t *testing.T) {
		var titles []string
		for _, p := range d.Panels {
			titles = append(titles, strings.ToLower(p.Title))
		}
		for _, want := range []string{"request rate", "success rate", "p95"} {
			if !slices.ContainsFunc(titles, func(s string) bool { return strings.Contains(s, want) }) {
				t.Errorf("no panel about %q in %q", want, titles)
			}
		}
	})
}

func TestLabelsOf(t *testing.T) {
	got := labelsOf(`sum by (le, path) (rate(x_bucket{namespace=~"$ns", status!~"5.."}[5m])) / sum without(method) (y)`)
	want := []string{"le", "method", "namespace", "path", "status"}
	if !slices.Equal(got, want) {
		t.Fatalf("labels %v, want %v", got, want)
	}
}

// labelsOf returns the label names in expr's matchers and by/without
// clauses, sorted and unique.
func labelsOf(expr string) []string {
	set := map[string]bool{}
	for _, sel := range selector.FindAllString(expr, -1) {
		for _, m := range matcher.FindAllStringSubmatch(sel, -1) {
			set[m[1]] = true
		}
	}
	for _, g := range groupingBy.FindAllStringSubmatch(expr, -1) {
		for _, l := range strings.Split(g[1], ",") {
			if l = strings.TrimSpace(l); l != "" {
				set[l] = true
			}
		}
	}
	out := make([]string, 0, len(set))
	for l := range set {
		out = append(out, l)
	}
	sort.Strings(out)
	return out
}

// configMap renders the ConfigMap holding the dashboard JSON, which
// InstallDashboards mounts into kube-prometheus' Grafana; its label
// grafana_dashboard: "1" lets a Grafana with the dashboard sidecar (the
// Helm chart's) load it too.
func configMap(dashboardJSON []byte) []byte {
	var b strings.Builder
	b.WriteString("# Generated from chaosops-dashboard.json by `go test ./plugin/grafana -run TestDashboardConfigMap -update`; edit the JSON, not this file.\n")
	b.WriteString("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: chaosops-dashboard\n  namespace: monitoring\n  labels:\n    grafana_dashboard: \"1\"\ndata:\n  chaosops-dashboard.json: |\n")
	for _, line := range strings.Split(strings.TrimRight(string(dashboardJSON), "\n"), "\n") {
		if line == "" {
			b.WriteString("\n")
			continue
		}
		b.WriteString("    " + line + "\n")
	}
	return []byte(b.String())
}

func TestDashboardConfigMap(t *testing.T) {
	dir := manifests(t)
	dash, err := os.ReadFile(filepath.Join(dir, "chaosops-dashboard.json"))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "chaosops-dashboard-configmap.yaml")
	want := configMap(dash)
	if *update {
		if err := os.WriteFile(path, want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test ./plugin/grafana -run TestDashboardConfigMap -update writes it)", err)
	}
	if string(got) != string(want) {
		t.Fatalf("%s drifted from chaosops-dashboard.json; regenerate it with go test ./plugin/grafana -run TestDashboardConfigMap -update", path)
	}

	t.Run("the ConfigMap holds the dashboard byte for byte", func(t *testing.T) {
		var cm struct {
			Kind     string
			Metadata struct {
				Namespace string
				Labels    map[string]string
			}
			Data map[string]string
		}
		if err := yaml.Unmarshal(got, &cm); err != nil {
			t.Fatal(err)
		}
		if cm.Kind != "ConfigMap" || cm.Metadata.Namespace != "monitoring" || cm.Metadata.Labels["grafana_dashboard"] != "1" {
			t.Fatalf("configmap %+v", cm)
		}
		if strings.TrimRight(cm.Data["chaosops-dashboard.json"], "\n") != strings.TrimRight(string(dash), "\n") {
			t.Fatal("the ConfigMap's data differs from the JSON file")
		}
	})
}
