package probe

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
)

// promProbe evaluates an instant query against a threshold.
type promProbe struct {
	spec Spec
	api  v1.API
	now  func() time.Time
	log  *slog.Logger
}

func newPromProbe(spec Spec, now func() time.Time, log *slog.Logger) (*promProbe, error) {
	tlsCfg, err := spec.tlsConfig()
	if err != nil {
		return nil, err
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = tlsCfg
	var rt http.RoundTripper = tr
	if spec.BearerToken != "" {
		rt = &bearer{token: spec.BearerToken, next: tr}
	}
	c, err := api.NewClient(api.Config{Address: spec.PrometheusURL, RoundTripper: rt})
	if err != nil {
		return nil, specError(spec.Name, "prometheus_url", "%v", err)
	}
	return &promProbe{spec: spec, api: v1.NewAPI(c), now: now, log: log}, nil
}

// bearer sets the Authorization header; the token stays out of every URL,
// log line and error.
type bearer struct {
	token string
	next  http.RoundTripper
}

func (b *bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return b.next.RoundTrip(r)
}

// evaluate runs the query once; every series must satisfy the comparison.
// The sample's value is the first series' value (in label order).
func (p *promProbe) evaluate(ctx context.Context, _ time.Time) Sample {
	now := p.now()
	s := Sample{At: now, Probe: p.spec.Name}
	ctx, cancel := context.WithTimeout(ctx, p.spec.Timeout)
	defer cancel()
	val, warnings, _, err := p.api.Query(ctx, p.spec.Query, now, v1.WithTimeout(p.spec.Timeout))
	if err != nil {
		s.Detail = fmt.Sprintf("query failed: %v", err)
		return s
	}
	if len(warnings) > 0 {
		p.log.Warn(fmt.Sprintf("probe %s: Prometheus warns: %s", p.spec.Name, strings.Join(warnings, "; ")))
	}
	var series []*model.Sample
	switch v := val.(type) {
	case model.Vector:
		series = v
	case *model.Scalar:
		series = []*model.Sample{{Value: v.Value}}
	default:
		s.Detail = fmt.Sprintf("query returned a %s; give an expression that yields an instant vector or a scalar", val.Type())
		return s
	}
	if len(series) == 0 {
		s.Detail = "query returned no series"
		return s
	}
	slices.SortFunc(series, func(a, b *model.Sample) int { return strings.Compare(a.Metric.String(), b.Metric.String()) })
	s.Value = float64(series[0].Value)
	failing := 0
	var first *model.Sample
	for _, x := range series {
		if !compare(p.spec.Comparator, float64(x.Value), p.spec.Threshold) {
			if failing == 0 {
				first = x
			}
			failing++
		}
	}
	s.OK = failing == 0
	switch {
	case s.OK:
		s.Detail = fmt.Sprintf("value %v %s %v (%d series)", s.Value, p.spec.Comparator, p.spec.Threshold, len(series))
	default:
		s.Detail = fmt.Sprintf("%s value %v is not %s %v (%d of %d series fail)", seriesName(first), float64(first.Value), p.spec.Comparator, p.spec.Threshold, failing, len(series))
	}
	return s
}

func seriesName(x *model.Sample) string {
	if len(x.Metric) == 0 {
		return "result"
	}
	return "series " + x.Metric.String()
}

// compare applies a validated comparator.
func compare(op string, v, threshold float64) bool {
	switch op {
	case ">":
		return v > threshold
	case ">=":
		return v >= threshold
	case "<":
		return v < threshold
	case "<=":
		return v <= threshold
	case "==":
		return v == threshold
	case "!=":
		return v != threshold
	}
	return false
}
