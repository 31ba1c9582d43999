package probe

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/cloudify-chaos/chaosops/plugin/failure"
	"github.com/google/go-cmp/cmp"
)

func TestNewRejects(t *testing.T) {
	web := func(f func(*Spec)) Spec {
		s := Spec{Name: "web", Kind: HTTP, URL: "http://demo:8080/"}
		if f != nil {
			f(&s)
		}
		return s
	}
	query := func(f func(*Spec)) Spec {
		s := Spec{Name: "q", Kind: PromQL, Query: "up", Comparator: ">", Threshold: 0, PrometheusURL: "http://prom:9090"}
		if f != nil {
			f(&s)
		}
		return s
	}
	notPEM := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(notPEM, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		specs []Spec
		opts  Options
		want  string
	}{
		{"a probe without a name", []Spec{{URL: "http://demo/"}}, Options{},
			`probe 1: name: not set; give every probe a name (letters, digits, _ . -)`},
		{"a name with spaces", []Spec{web(func(s *Spec) { s.Name = "my probe" })}, Options{},
			`probe "my probe": name: use up to 63 letters, digits, _ . or - (starting with a letter or digit)`},
		{"two probes of the same name", []Spec{web(nil), web(nil)}, Options{},
			`probe "web": name: used by two probes; give each probe its own name`},
		{"neither url nor query", []Spec{{Name: "x"}}, Options{},
			`probe "x": kind: not set; use http (with url) or promql (with query)`},
		{"an unknown kind", []Spec{web(func(s *Spec) { s.Kind = "tcp" })}, Options{},
			`probe "web": kind: "tcp" is not a probe kind; use http or promql`},
		{"an HTTP probe without url", []Spec{web(func(s *Spec) { s.URL = "" })}, Options{},
			`probe "web": url: not set; give the URL the load generator should call`},
		{"a url that is not http", []Spec{web(func(s *Spec) { s.URL = "ftp://user:secret@demo/" })}, Options{},
			`probe "web": url: ftp://user:xxxxx@demo/: scheme "ftp" is not http or https`},
		{"a url without host", []Spec{web(func(s *Spec) { s.URL = "http:///path" })}, Options{},
			`probe "web": url: http:///path: no host; give e.g. http://host:8080/path`},
		{"a method that is not a token", []Spec{web(func(s *Spec) { s.Method = "GET /" })}, Options{},
			`probe "web": method: "GET /" is not an HTTP method; use one of GET HEAD POST PUT PATCH DELETE OPTIONS`},
		{"a status range upside down", []Spec{web(func(s *Spec) { s.StatusMin = 500 })}, Options{},
			`probe "web": status_max: 399 is below status_min 500; set both so that status_min <= status_max`},
		{"a status that is not one", []Spec{web(func(s *Spec) { s.StatusMax = 999 })}, Options{},
			`probe "web": status_max: 999 is not an HTTP status; use 100..599`},
		{"a rate above MaxRPS", []Spec{web(func(s *Spec) { s.RPS = 500 })}, Options{},
			`probe "web": rps: 500 is above the maximum of 200 requests per second`},
		{"a negative rate", []Spec{web(func(s *Spec) { s.RPS = -1 })}, Options{},
			`probe "web": rps: -1 is not a request rate; use a positive number up to 200`},
		{"a window below one second", []Spec{web(func(s *Spec) { s.Window = 500 * time.Millisecond })}, Options{},
			`probe "web": window: 500ms is below the minimum of 1s`},
		{"a success rate above one", []Spec{web(func(s *Spec) { s.MinSuccess = 1.5 })}, Options{},
			`probe "web": min_success: 1.5 is not a success rate; use a fraction in (0, 1], e.g. 0.95`},
		{"too many requests in flight", []Spec{web(func(s *Spec) { s.MaxInFlight = 100 })}, Options{},
			`probe "web": max_in_flight: 100 is out of range; use 1..64`},
		{"a negative interval", []Spec{web(func(s *Spec) { s.Interval = -time.Second })}, Options{},
			`probe "web": interval: -1s is negative; use e.g. 5s`},
		{"a timeout above a minute", []Spec{web(func(s *Spec) { s.Timeout = 2 * time.Minute })}, Options{},
			`probe "web": timeout: 2m0s is above the maximum of 1m0s`},
		{"an unknown phase", []Spec{web(func(s *Spec) { s.Phases = []Phase{Before, "while"} })}, Options{},
			`probe "web": phases: "while" is not a phase; use before, during and/or after`},
		{"a phase listed twice", []Spec{web(func(s *Spec) { s.Phases = []Phase{After, After} })}, Options{},
			`probe "web": phases: after is listed twice`},
		{"an unknown expectation", []Spec{web(func(s *Spec) { s.During = "maybe" })}, Options{},
			`probe "web": during: "maybe" is not an expectation; use must_hold or deviate`},
		{"deviate without the during phase", []Spec{web(func(s *Spec) { s.During = Deviate; s.Phases = []Phase{Before, After} })}, Options{},
			`probe "web": during: deviate needs the during phase; add during to phases`},
		{"a CA file that is missing", []Spec{web(func(s *Spec) { s.CAFile = "/nonexistent/ca.pem" })}, Options{},
			`probe "web": ca_file: open /nonexistent/ca.pem: no such file or directory; give a PEM file of the CA that signed the server's certificate`},
		{"a CA file without a certificate", []Spec{web(func(s *Spec) { s.CAFile = notPEM })}, Options{},
			`probe "web": ca_file: ` + notPEM + ` holds no PEM certificate; give a PEM file of the CA that signed the server's certificate`},
		{"a PromQL probe without query", []Spec{query(func(s *Spec) { s.Query = " " })}, Options{},
			`probe "q": query: not set; give a PromQL expression, e.g. sum(rate(http_requests_total[1m]))`},
		{"an unknown comparator", []Spec{query(func(s *Spec) { s.Comparator = "=>" })}, Options{},
			`probe "q": comparator: "=>" is not a comparator; use one of > >= < <= == !=`},
		{"no comparator", []Spec{query(func(s *Spec) { s.Comparator = "" })}, Options{},
			`probe "q": comparator: not set; use one of > >= < <= == !=`},
		{"a PromQL probe without prometheus_url", []Spec{query(func(s *Spec) { s.PrometheusURL = "" })}, Options{},
			`probe "q": prometheus_url: not set; give the URL of the Prometheus to query, e.g. http://prometheus.monitoring:9090`},
		{"a negative settle window", []Spec{web(nil)}, Options{Settle: -time.Second},
			`settle: -1s is negative; use e.g. 30s`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.specs, tt.opts)
			if err == nil {
				t.Fatalf("New accepted the specs; want error %q", tt.want)
			}
			if diff := cmp.Diff(tt.want, err.Error()); diff != "" {
				t.Errorf("error (-want +got):\n%s", diff)
			}
			var invalid *failure.InvalidError
			if tt.opts.Settle == 0 && !errors.As(err, &invalid) {
				t.Errorf("error is %T, want *failure.InvalidError so the boundary treats it as bad input", err)
			}
		})
	}
}

func TestNewDefaults(t *testing.T) {
	tests := []struct {
		name string
		in   Spec
		want Spec
	}{
		{
			"an HTTP probe gets the documented defaults and its kind from url",
			Spec{Name: "web", URL: "http://demo:8080/", Method: "head"},
			Spec{Name: "web", Kind: HTTP, Phases: []Phase{Before, During, After}, During: MustHold, Interval: 5 * time.Second,
				URL: "http://demo:8080/", Method: "HEAD", StatusMin: 200, StatusMax: 399, Timeout: 2 * time.Second,
				RPS: 5, Window: 10 * time.Second, MinSuccess: 0.95, MaxInFlight: 20},
		},
		{
			"the in-flight bound follows rate × timeout up to its limit",
			Spec{Name: "web", URL: "http://demo/", RPS: 200, Phases: []Phase{During}, During: Deviate},
			Spec{Name: "web", Kind: HTTP, Phases: []Phase{During}, During: Deviate, Interval: 5 * time.Second,
				URL: "http://demo/", Method: "GET", StatusMin: 200, StatusMax: 399, Timeout: 2 * time.Second,
				RPS: 200, Window: 10 * time.Second, MinSuccess: 0.95, MaxInFlight: InFlightLimit},
		},
		{
			"a PromQL probe gets its kind from query and a longer timeout",
			Spec{Name: "q", Query: "up", Comparator: "==", Threshold: 1, PrometheusURL: "http://prom:9090", BearerToken: "t"},
			Spec{Name: "q", Kind: PromQL, Phases: []Phase{Before, During, After}, During: MustHold, Interval: 5 * time.Second,
				Timeout: 10 * time.Second, Query: "up", Comparator: "==", Threshold: 1, PrometheusURL: "http://prom:9090", BearerToken: "t"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := New([]Spec{tt.in}, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff([]Spec{tt.want}, s.Specs()); diff != "" {
				t.Errorf("specs (-want +got):\n%s", diff)
			}
		})
	}
}
