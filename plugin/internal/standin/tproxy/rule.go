package tproxy

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/cloudify-chaos/chaosops/plugin/chaos/api"
	"golang.org/x/net/http/httpguts"
)

// Bounds of what a rule may ask for.
const (
	// MaxDelay is the longest delay a rule may set.
	MaxDelay = 10 * time.Minute
	// MaxBodyBytes bounds a replacement body and a body read for a JSON
	// patch.
	MaxBodyBytes = 4 << 20
)

// Rule is one HTTPChaos fault as a proxy applies it: what it selects
// (target, port, path, method, code, headers) and what it does (abort,
// delay, replace, patch). Its JSON uses the HTTPChaos spec's field names;
// replace.body is base64, as in Chaos Mesh.
type Rule struct {
	// Target is Request or Response.
	Target api.HTTPTarget `json:"target"`
	// Port is the container port the rule is for; the proxy applies it only
	// when it fronts that port.
	Port int32 `json:"port"`
	// Path selects by URI path, a glob with "*" and "?"; empty selects all.
	Path string `json:"path,omitempty"`
	// Method selects by HTTP method; empty selects all.
	Method string `json:"method,omitempty"`
	// Code selects responses by status code (target Response); 0 selects
	// all.
	Code int32 `json:"code,omitempty"`
	// RequestHeaders selects by request header values.
	RequestHeaders map[string]string `json:"request_headers,omitempty"`
	// ResponseHeaders selects by response header values (target Response).
	ResponseHeaders map[string]string `json:"response_headers,omitempty"`

	// Abort closes the connection without a response.
	Abort bool `json:"abort,omitempty"`
	// Delay is a Go duration ("300ms") to wait.
	Delay string `json:"delay,omitempty"`
	// Replace replaces parts of the request or response.
	Replace *api.HTTPReplace `json:"replace,omitempty"`
	// Patch appends to parts of the request or response.
	Patch *api.HTTPPatch `json:"patch,omitempty"`
}

// RuleFromHTTPChaos returns the rule that spec asks chaos-daemon to apply
// to each selected pod, or an error naming the field that the proxy cannot
// apply.
func RuleFromHTTPChaos(spec *api.HTTPChaosSpec) (Rule, error) {
	if spec == nil {
		return Rule{}, errors.New("spec: missing; pass the HTTPChaos spec")
	}
	if spec.TLS != nil {
		return Rule{}, errors.New("spec.tls: the fault proxy stand-in serves plain HTTP only; remove tls")
	}
	r := Rule{
		Target:          spec.Target,
		Port:            spec.Port,
		Path:            deref(spec.Path),
		Method:          deref(spec.Method),
		Code:            deref(spec.Code),
		RequestHeaders:  spec.RequestHeaders,
		ResponseHeaders: spec.ResponseHeaders,
		Abort:           deref(spec.Abort),
		Delay:           deref(spec.Delay),
		Replace:         spec.Replace,
		Patch:           spec.Patch,
	}
	return r, r.Validate()
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// nonZero is a pointer to v, or nil when v is the zero value.
func nonZero[T comparable](v T) *T {
	var zero T
	if v == zero {
		return nil
	}
	return &v
}

// Validate returns an *api.InvalidError naming every field of r that is
// wrong and how to fix it, or nil. It applies HTTPChaos's own checks, then
// the proxy's bounds (MaxDelay, MaxBodyBytes, valid header names and
// values).
func (r Rule) Validate() error {
	spec := &api.HTTPChaosSpec{
		PodSelector: api.PodSelector{Mode: api.ModeAll},
		Target:      r.Target,
		Port:        r.Port,
		Path:        nonZero(r.Path),
		Method:      nonZero(r.Method),
		Code:        nonZero(r.Code),
		Abort:       nonZero(r.Abort),
		Delay:       nonZero(r.Delay),
		Replace:     r.Replace,
		Patch:       r.Patch,
	}
	var fields []api.FieldError
	var invalid *api.InvalidError
	if err := api.NewObject("", "rule", spec).Validate(); errors.As(err, &invalid) {
		for _, f := range invalid.Fields {
			f.Field = strings.Replace(f.Field, "spec", "rule", 1)
			fields = append(fields, f)
		}
	} else if err != nil {
		return err
	}
	add := func(field, problem, fix string) {
		fields = append(fields, api.FieldError{Field: field, Problem: problem, Fix: fix})
	}
	if d, err := time.ParseDuration(r.Delay); r.Delay != "" && err == nil && d > MaxDelay {
		add("rule.delay", fmt.Sprintf("%q is longer than %v", r.Delay, MaxDelay), "use a shorter delay")
	}
	if r.Code != 0 && (r.Code < 100 || r.Code > 599) {
		add("rule.code", fmt.Sprintf("%d is not an HTTP status code", r.Code), "use e.g. 200")
	}
	headerMap("rule.request_headers", r.RequestHeaders, add)
	headerMap("rule.response_headers", r.ResponseHeaders, add)
	if rp := r.Replace; rp != nil {
		headerMap("rule.replace.headers", rp.Headers, add)
		if len(rp.Body) > MaxBodyBytes {
			add("rule.replace.body", fmt.Sprintf("has %d bytes, more than %d", len(rp.Body), MaxBodyBytes), "use a smaller body")
		}
		if rp.Path != nil && !strings.HasPrefix(*rp.Path, "/") && *rp.Path != "" {
			add("rule.replace.path", fmt.Sprintf("%q does not start with /", *rp.Path), `use an absolute path, e.g. "/api/v2"`)
		}
	}
	if p := r.Patch; p != nil {
		for i, h := range p.Headers {
			if len(h) == 2 {
				header(fmt.Sprintf("rule.patch.headers[%d]", i), h[0], h[1], add)
			}
		}
	}
	if len(fields) == 0 {
		return nil
	}
	return &api.InvalidError{Fields: fields}
}

func headerMap(field string, m map[string]string, add func(field, problem, fix string)) {
	for name, value := range m {
		header(field+"."+name, name, value, add)
	}
}

func header(field, name, value string, add func(field, problem, fix string)) {
	if !httpguts.ValidHeaderFieldName(name) {
		add(field, fmt.Sprintf("%q is not a header name", name), `use a token such as "X-Chaos"`)
	}
	if !httpguts.ValidHeaderFieldValue(value) {
		add(field, fmt.Sprintf("value %q has control characters", value), "remove them")
	}
}

// compiled is a validated rule ready to apply.
type compiled struct {
	id         string
	rule       Rule
	delay      time.Duration
	patchQuery string // encoded pairs of patch.queries
	patchBody  any    // decoded patch.body.value
	patchJSON  bool   // patchBody is set: patch.body is given
}

func compile(id string, r Rule) (*compiled, error) {
	if err := r.Validate(); err != nil {
		return nil, err
	}
	c := &compiled{id: id, rule: r}
	if r.Delay != "" {
		c.delay, _ = time.ParseDuration(r.Delay) // validated
	}
	if p := r.Patch; p != nil {
		pairs := make([]string, len(p.Queries))
		for i, q := range p.Queries {
			pairs[i] = url.QueryEscape(q[0]) + "=" + url.QueryEscape(q[1])
		}
		c.patchQuery = strings.Join(pairs, "&")
		if p.Body != nil {
			v, err := decodeJSON([]byte(p.Body.Value))
			if err != nil {
				return nil, fmt.Errorf("rule.patch.body.value: %w; write the merge patch as JSON", err)
			}
			c.patchBody, c.patchJSON = v, true
		}
	}
	return c, nil
}

// matchRequest reports whether the rule selects r on port. r is the
// request as the request rules left it.
func (c *compiled) matchRequest(port int, r *http.Request) bool {
	sel := c.rule
	return (sel.Port == 0 || int(sel.Port) == port) &&
		(sel.Path == "" || wildMatch(sel.Path, r.URL.EscapedPath())) &&
		(sel.Method == "" || sel.Method == r.Method) &&
		headersMatch(sel.RequestHeaders, r.Header)
}

// matchResponse reports whether the rule selects resp, the upstream's
// answer to resp.Request, on port.
func (c *compiled) matchResponse(port int, resp *http.Response) bool {
	return c.matchRequest(port, resp.Request) &&
		(c.rule.Code == 0 || int(c.rule.Code) == resp.StatusCode) &&
		headersMatch(c.rule.ResponseHeaders, resp.Header)
}

// headersMatch reports whether every header of want has its value among
// the values of h.
func headersMatch(want map[string]string, h http.Header) bool {
	for name, value := range want {
		found := false
		for _, v := range h.Values(name) {
			if v == value {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// wildMatch reports whether all of s matches pattern, where "*" matches
// any sequence of characters (slashes too) and "?" one character, as the
// wildmatch crate that chaos-tproxy uses.
func wildMatch(pattern, s string) bool {
	p, t := []rune(pattern), []rune(s)
	pi, ti := 0, 0
	star, mark := -1, 0
	for ti < len(t) {
		switch {
		case pi < len(p) && p[pi] == '*':
			star, mark = pi, ti
			pi++
		case pi < len(p) && (p[pi] == '?' || p[pi] == t[ti]):
			pi++
			ti++
		case star >= 0:
			// Let the last star swallow one more character.
			mark++
			pi, ti = star+1, mark
		default:
			return false
		}
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}
