package probe

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"math"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/cloudify-chaos/chaosops/plugin/failure"
)

// Defaults of Spec.
const (
	DefaultInterval      = 5 * time.Second
	DefaultMethod        = "GET"
	DefaultStatusMin     = 200
	DefaultStatusMax     = 399
	DefaultHTTPTimeout   = 2 * time.Second
	DefaultPromQLTimeout = 10 * time.Second
	DefaultRPS           = 5
	DefaultWindow        = 10 * time.Second
	DefaultMinSuccess    = 0.95
)

// Bounds checked by New.
const (
	minInterval = 100 * time.Millisecond
	minWindow   = time.Second
	maxTimeout  = time.Minute
	minInFlight = 4
)

// Comparators a PromQL probe may use.
var Comparators = []string{">", ">=", "<", "<=", "==", "!="}

// Methods an HTTP probe may send.
var Methods = []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}

var namePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$`)

// FieldError is what is wrong with one field of one probe; an adapter
// that gave the probe from options of its own (the shorthands) finds it
// with errors.As and names its option instead.
type FieldError struct {
	Probe, Field string
	Err          error
}

func (e *FieldError) Error() string { return e.Err.Error() }

// Unwrap returns the cause.
func (e *FieldError) Unwrap() error { return e.Err }

// specError names the probe and the field of a bad spec; it is a
// failure.InvalidError so the edges treat it as bad input, around a
// *FieldError.
func specError(name, field, format string, args ...any) error {
	return &failure.InvalidError{Field: fmt.Sprintf("probe %q: %s", name, field), Err: &FieldError{Probe: name, Field: field, Err: fmt.Errorf(format, args...)}}
}

// normalize validates s and fills its defaults. index (from 1) names an
// unnamed probe.
func (s *Spec) normalize(index int) error {
	if s.Name == "" {
		return failure.Invalidf(fmt.Sprintf("probe %d: name", index), "not set; give every probe a name (letters, digits, _ . -)")
	}
	bad := func(field, format string, args ...any) error { return specError(s.Name, field, format, args...) }
	if !namePattern.MatchString(s.Name) {
		return bad("name", "use up to 63 letters, digits, _ . or - (starting with a letter or digit)")
	}
	if s.Kind == "" {
		switch {
		case s.URL != "" && s.Query == "":
			s.Kind = HTTP
		case s.Query != "" && s.URL == "":
			s.Kind = PromQL
		default:
			return bad("kind", "not set; use http (with url) or promql (with query)")
		}
	}
	if err := s.normalizeSchedule(bad); err != nil {
		return err
	}
	switch s.Kind {
	case HTTP:
		return s.normalizeHTTP(bad)
	case PromQL:
		return s.normalizePromQL(bad)
	}
	return bad("kind", "%q is not a probe kind; use http or promql", s.Kind)
}

type badFunc func(field, format string, args ...any) error

// normalizeSchedule checks the fields every kind has: phases, during,
// interval, timeout and the TLS settings.
func (s *Spec) normalizeSchedule(bad badFunc) error {
	if len(s.Phases) == 0 {
		s.Phases = []Phase{Before, During, After}
	}
	for i, p := range s.Phases {
		if p != Before && p != During && p != After {
			return bad("phases", "%q is not a phase; use before, during and/or after", p)
		}
		if slices.Contains(s.Phases[:i], p) {
			return bad("phases", "%s is listed twice", p)
		}
	}
	switch s.During {
	case "":
		s.During = MustHold
	case MustHold:
	case Deviate:
		if !s.has(During) {
			return bad("during", "deviate needs the during phase; add during to phases")
		}
	default:
		return bad("during", "%q is not an expectation; use must_hold or deviate", s.During)
	}
	if err := durationField(bad, "interval", &s.Interval, DefaultInterval, minInterval, 0); err != nil {
		return err
	}
	timeout := DefaultHTTPTimeout
	if s.Kind == PromQL {
		timeout = DefaultPromQLTimeout
	}
	if err := durationField(bad, "timeout", &s.Timeout, timeout, 0, maxTimeout); err != nil {
		return err
	}
	if s.CAFile != "" {
		if _, err := s.tlsConfig(); err != nil {
			return bad("ca_file", "%v; give a PEM file of the CA that signed the server's certificate", err)
		}
	}
	return nil
}

func (s *Spec) normalizeHTTP(bad badFunc) error {
	if s.URL == "" {
		return bad("url", "not set; give the URL the load generator should call")
	}
	if err := httpURL(s.URL); err != nil {
		return bad("url", "%v", err)
	}
	if s.Method == "" {
		s.Method = DefaultMethod
	}
	s.Method = strings.ToUpper(s.Method)
	if !slices.Contains(Methods, s.Method) {
		return bad("method", "%q is not an HTTP method; use one of %s", s.Method, strings.Join(Methods, " "))
	}
	if s.StatusMin == 0 {
		s.StatusMin = DefaultStatusMin
	}
	if s.StatusMax == 0 {
		s.StatusMax = DefaultStatusMax
	}
	if s.StatusMin < 100 || s.StatusMin > 599 {
		return bad("status_min", "%d is not an HTTP status; use 100..599", s.StatusMin)
	}
	if s.StatusMax < 100 || s.StatusMax > 599 {
		return bad("status_max", "%d is not an HTTP status; use 100..599", s.StatusMax)
	}
	if s.StatusMax < s.StatusMin {
		return bad("status_max", "%d is below status_min %d; set both so that status_min <= status_max", s.StatusMax, s.StatusMin)
	}
	switch {
	case s.RPS == 0:
		s.RPS = DefaultRPS
	case s.RPS < 0 || math.IsNaN(s.RPS):
		return bad("rps", "%v is not a request rate; use a positive number up to %d", s.RPS, MaxRPS)
	case s.RPS > MaxRPS:
		return bad("rps", "%v is above the maximum of %d requests per second", s.RPS, MaxRPS)
	}
	if err := durationField(bad, "window", &s.Window, DefaultWindow, minWindow, 0); err != nil {
		return err
	}
	switch {
	case s.MinSuccess == 0:
		s.MinSuccess = DefaultMinSuccess
	case !(s.MinSuccess > 0 && s.MinSuccess <= 1):
		return bad("min_success", "%v is not a success rate; use a fraction in (0, 1], e.g. 0.95", s.MinSuccess)
	}
	switch {
	case s.MaxInFlight == 0:
		// Twice what requests lasting the whole timeout need, so only a
		// target slower than the timeout causes drops.
		s.MaxInFlight = min(max(int(math.Ceil(2*s.RPS*s.Timeout.Seconds())), minInFlight), InFlightLimit)
	case s.MaxInFlight < 0 || s.MaxInFlight > InFlightLimit:
		return bad("max_in_flight", "%d is out of range; use 1..%d", s.MaxInFlight, InFlightLimit)
	}
	return nil
}

func (s *Spec) normalizePromQL(bad badFunc) error {
	if strings.TrimSpace(s.Query) == "" {
		return bad("query", "not set; give a PromQL expression, e.g. sum(rate(http_requests_total[1m]))")
	}
	if err := balanced(s.Query); err != nil {
		return bad("query", "%v; e.g. sum(rate(http_requests_total[1m]))", err)
	}
	if !slices.Contains(Comparators, s.Comparator) {
		if s.Comparator == "" {
			return bad("comparator", "not set; use one of %s", strings.Join(Comparators, " "))
		}
		return bad("comparator", "%q is not a comparator; use one of %s", s.Comparator, strings.Join(Comparators, " "))
	}
	if math.IsNaN(s.Threshold) {
		return bad("threshold", "NaN cannot be compared; give a number")
	}
	if s.PrometheusURL == "" {
		return bad("prometheus_url", "not set; give the URL of the Prometheus to query, e.g. http://prometheus.monitoring:9090")
	}
	if err := httpURL(s.PrometheusURL); err != nil {
		return bad("prometheus_url", "%v", err)
	}
	return nil
}

// has reports whether the probe runs at phase p.
func (s *Spec) has(p Phase) bool { return slices.Contains(s.Phases, p) }

// durationField defaults *d to def when zero and checks it against lo and
// hi (either 0 for no bound).
func durationField(bad badFunc, field string, d *time.Duration, def, lo, hi time.Duration) error {
	switch {
	case *d == 0:
		*d = def
	case *d < 0:
		return bad(field, "%s is negative; use e.g. %s", *d, def)
	case lo > 0 && *d < lo:
		return bad(field, "%s is below the minimum of %s", *d, lo)
	case hi > 0 && *d > hi:
		return bad(field, "%s is above the maximum of %s", *d, hi)
	}
	return nil
}

// httpURL checks that raw is an absolute http or https URL; the error
// never repeats a password it may hold.
func httpURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("not a URL; give e.g. http://host:8080/path")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("%s: scheme %q is not http or https", u.Redacted(), u.Scheme)
	}
	if u.Host == "" {
		return fmt.Errorf("%s: no host; give e.g. http://host:8080/path", u.Redacted())
	}
	return nil
}

// tlsConfig verifies servers against the system roots plus CAFile, unless
// InsecureSkipTLSVerify is set.
func (s *Spec) tlsConfig() (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: s.InsecureSkipTLSVerify} //nolint:gosec // opt-in per probe
	if s.CAFile == "" {
		return cfg, nil
	}
	pem, err := os.ReadFile(s.CAFile)
	if err != nil {
		return nil, err
	}
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%s holds no PEM certificate", s.CAFile)
	}
	cfg.RootCAs = pool
	return cfg, nil
}

// balanced checks that the brackets of a PromQL query pair up outside
// its string literals: the syntax error found before Prometheus is asked.
func balanced(q string) error {
	pairs := map[rune]rune{')': '(', ']': '[', '}': '{'}
	var open []rune
	var quote rune
	escaped := false
	for _, c := range q {
		switch {
		case quote != 0:
			switch {
			case escaped:
				escaped = false
			case c == '\\' && quote != '`':
				escaped = true
			case c == quote:
				quote = 0
			}
		case c == '"' || c == '\'' || c == '`':
			quote = c
		case c == '(' || c == '[' || c == '{':
			open = append(open, c)
		case pairs[c] != 0:
			if len(open) == 0 || open[len(open)-1] != pairs[c] {
				return fmt.Errorf("unexpected %q", c)
			}
			open = open[:len(open)-1]
		}
	}
	switch {
	case quote != 0:
		return fmt.Errorf("unclosed string %c", quote)
	case len(open) > 0:
		return fmt.Errorf("unclosed %q", open[len(open)-1])
	}
	return nil
}
