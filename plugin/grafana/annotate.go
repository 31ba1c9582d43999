// Package grafana connects chaosops to Grafana: it posts chaos runs as
// annotations through Grafana's HTTP API (/api/annotations), so dashboards
// show when a fault was in place, and it installs dashboards into a
// Grafana without dashboard sidecar, such as kube-prometheus', by mounting
// their ConfigMaps into Grafana's Deployment (InstallDashboards,
// UninstallDashboards).
package grafana

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cloudify-chaos/chaosops/plugin/redact"
)

// Tag marks every chaosops annotation; the shipped dashboard's
// annotation query shows the annotations carrying it.
const Tag = "chaosops"

// RunTagPrefix starts the tag naming a run (RunTag). Annotate finds an
// earlier annotation of the same run by it.
const RunTagPrefix = "run:"

// RunTag returns the tag naming the run runID.
func RunTag(runID string) string { return RunTagPrefix + runID }

// requestTimeout bounds one HTTP request when the client is built here.
const requestTimeout = 30 * time.Second

// maxBody bounds how much of a response is read.
const maxBody = 1 << 20

// Client says how to reach Grafana.
type Client struct {
	// URL is Grafana's base URL, e.g. https://grafana.example.com or
	// http://grafana.monitoring:3000/grafana (a sub-path is kept).
	URL string
	// Token is a service account token (role Editor, or the
	// annotations:create and annotations:read permissions), sent as a
	// Bearer token. It never appears in errors.
	Token string
	// CAFile is a PEM bundle trusted instead of the system's CAs. TLS is
	// always verified.
	CAFile string
	// HTTPClient, when set, is used as is (CAFile is then ignored).
	HTTPClient *http.Client
}

// Annotation is a region on Grafana's time axis.
type Annotation struct {
	From, To time.Time
	// Tags must include RunTag(runID), so that a retry finds the
	// annotation instead of adding a second; add Tag so the shipped
	// dashboard shows it.
	Tags []string
	Text string
	// DashboardUID ties the annotation to one dashboard; empty makes an
	// organisation annotation, shown by tag on any dashboard.
	DashboardUID string
}

// annotationJSON is an annotation as Grafana's API reads and returns it
// (times in epoch milliseconds).
type annotationJSON struct {
	ID           int64    `json:"id,omitempty"`
	DashboardUID string   `json:"dashboardUID,omitempty"`
	Time         int64    `json:"time"`
	TimeEnd      int64    `json:"timeEnd"`
	Tags         []string `json:"tags"`
	Text         string   `json:"text"`
}

// Annotate posts a (POST /api/annotations) and returns its id. It first
// looks for an annotation of the same run in the window (GET
// /api/annotations?from&to&tags=<run tag>) and returns that one's id
// instead, so retrying after a lost response does not add a duplicate.
func Annotate(ctx context.Context, c Client, a Annotation) (int64, error) {
	runTag, err := validate(c, a)
	if err != nil {
		return 0, err
	}
	hc, err := c.httpClient()
	if err != nil {
		return 0, err
	}
	found, err := c.find(ctx, hc, a, runTag)
	if err != nil {
		return 0, err
	}
	if found != 0 {
		return found, nil
	}
	body, err := json.Marshal(annotationJSON{
		DashboardUID: a.DashboardUID, Time: a.From.UnixMilli(), TimeEnd: a.To.UnixMilli(), Tags: a.Tags, Text: a.Text,
	})
	if err != nil {
		return 0, err
	}
	var created struct {
		ID      int64  `json:"id"`
		Message string `json:"message"`
	}
	if err := c.do(ctx, hc, http.MethodPost, "/api/annotations", nil, body, &created); err != nil {
		return 0, err
	}
	if created.ID == 0 {
		return 0, fmt.Errorf("grafana: POST /api/annotations answered without an id (%q)", created.Message)
	}
	return created.ID, nil
}

func validate(c Client, a Annotation) (runTag string, err error) {
	var errs []error
	u, perr := url.Parse(c.URL)
	if c.URL == "" || perr != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Errorf("grafana url: %q is not an http(s) URL; give Grafana's base URL, e.g. https://grafana.example.com", redact.Password(c.URL, "(unparsable)")))
	}
	if c.Token == "" {
		errs = append(errs, errors.New("grafana token: not set; create a Grafana service account token with role Editor"))
	}
	if a.From.IsZero() || a.To.Before(a.From) {
		errs = append(errs, fmt.Errorf("annotation window: from %s to %s is not a time range", a.From.Format(time.RFC3339), a.To.Format(time.RFC3339)))
	}
	if strings.TrimSpace(a.Text) == "" {
		errs = append(errs, errors.New("annotation text: empty; Grafana requires a text"))
	}
	for _, t := range a.Tags {
		if strings.HasPrefix(t, RunTagPrefix) && len(t) > len(RunTagPrefix) {
			runTag = t
			break
		}
	}
	if runTag == "" {
		errs = append(errs, fmt.Errorf("annotation tags %q: no run tag; add grafana.RunTag(runID) so a retry reuses the annotation", a.Tags))
	}
	return runTag, errors.Join(errs...)
}

// find returns the id of an annotation carrying runTag in a's window, or 0.
func (c Client) find(ctx context.Context, hc *http.Client, a Annotation, runTag string) (int64, error) {
	q := url.Values{}
	q.Set("from", strconv.FormatInt(a.From.UnixMilli(), 10))
	q.Set("to", strconv.FormatInt(a.To.UnixMilli(), 10))
	q.Set("tags", runTag)
	q.Set("type", "annotation")
	q.Set("limit", "100")
	if a.DashboardUID != "" {
		q.Set("dashboardUID", a.DashboardUID)
	}
	var found []annotationJSON
	if err := c.do(ctx, hc, http.MethodGet, "/api/annotations", q, nil, &found); err != nil {
		return 0, err
	}
	for _, f := range found {
		if slices.Contains(f.Tags, runTag) {
			return f.ID, nil
		}
	}
	return 0, nil
}

// do sends one request and decodes a 2xx JSON answer into out. Other
// answers become errors with the status and Grafana's message.
func (c Client) do(ctx context.Context, hc *http.Client, method, path string, q url.Values, body []byte, out any) error {
	u, err := url.Parse(c.URL)
	if err != nil {
		return err
	}
	u = u.JoinPath(path)
	u.RawQuery = q.Encode()
	what := fmt.Sprintf("grafana: %s %s", method, u.Redacted())
	req, err := http.NewRequestWithContext(ctx, method, u.String(), bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	req.Header.Set("Authorization", "Bearer "+c.Token)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("%s: %w", what, c.scrub(err))
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return fmt.Errorf("%s: read the answer: %w", what, c.scrub(err))
	}
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s: %s: %s", what, resp.Status, c.scrubText(message(data)))
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("%s: the answer is not the JSON Grafana sends: %w", what, err)
	}
	return nil
}

// message returns Grafana's error message ({"message": ...}), else the
// start of the body.
func message(data []byte) string {
	var e struct {
		Message string `json:"message"`
	}
	if json.Unmarshal(data, &e) == nil && e.Message != "" {
		return e.Message
	}
	s := strings.TrimSpace(string(data))
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	if s == "" {
		return "no message"
	}
	return s
}

// scrubText removes the token should an answer or error echo it.
func (c Client) scrubText(s string) string {
	if c.Token == "" {
		return s
	}
	return strings.ReplaceAll(s, c.Token, "[REDACTED]")
}

// scrub masks the token in err's text; errors.Is still sees err.
func (c Client) scrub(err error) error { return &scrubbed{msg: c.scrubText(err.Error()), err: err} }

type scrubbed struct {
	msg string
	err error
}

func (e *scrubbed) Error() string { return e.msg }
func (e *scrubbed) Unwrap() error { return e.err }

// httpClient returns c.HTTPClient, or a client that verifies TLS against
// the system's CAs or CAFile.
func (c Client) httpClient() (*http.Client, error) {
	if c.HTTPClient != nil {
		return c.HTTPClient, nil
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	if c.CAFile != "" {
		pem, err := os.ReadFile(c.CAFile)
		if err != nil {
			return nil, fmt.Errorf("grafana ca file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("grafana ca file %s: no PEM certificate in it; give the CA bundle that signed Grafana's certificate", c.CAFile)
		}
		tr.TLSClientConfig.RootCAs = pool
	}
	return &http.Client{Transport: tr, Timeout: requestTimeout}, nil
}

// Check refuses, before anything is contacted, a URL that is not an
// http(s) URL and a CA file that cannot be read or holds no certificate.
// The error names the Client field: URL or CAFile.
func (c Client) Check() (field string, err error) {
	if u, perr := url.Parse(c.URL); perr != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "URL", fmt.Errorf("%q is not an http(s) URL; give Grafana's base URL, e.g. https://grafana.example.com", redact.Password(c.URL, "(unparsable)"))
	}
	if c.HTTPClient == nil && c.CAFile != "" {
		if _, err := c.httpClient(); err != nil {
			return "CAFile", err
		}
	}
	return "", nil
}
