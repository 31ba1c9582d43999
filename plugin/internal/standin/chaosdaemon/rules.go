package chaosdaemon

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/cloudify-chaos/chaosops/plugin/chaos/api"
	"github.com/cloudify-chaos/chaosops/plugin/internal/standin/tproxy"
)

// HTTPRule is one rule of an ApplyHttpChaos request, in the JSON that the
// controller sends: Chaos Mesh's PodHttpChaosBaseRule (what to select,
// what to do), one per HTTPChaos that targets the container.
type HTTPRule struct {
	// Target is Request or Response.
	Target api.HTTPTarget `json:"target"`
	// Selector selects the traffic.
	Selector HTTPSelector `json:"selector"`
	// Actions say what to do with it.
	Actions HTTPActions `json:"actions"`
}

// HTTPSelector is PodHttpChaosSelector.
type HTTPSelector struct {
	// Port is the container port the server listens on.
	Port *int32 `json:"port,omitempty"`
	// Path is a glob on the URI path.
	Path *string `json:"path,omitempty"`
	// Method is the HTTP method.
	Method *string `json:"method,omitempty"`
	// Code is the response status code (target Response).
	Code *int32 `json:"code,omitempty"`
	// RequestHeaders selects by request header values.
	RequestHeaders map[string]string `json:"request_headers,omitempty"`
	// ResponseHeaders selects by response header values.
	ResponseHeaders map[string]string `json:"response_headers,omitempty"`
}

// HTTPActions is PodHttpChaosActions: what HTTPChaos specs call abort,
// delay, replace and patch.
type HTTPActions struct {
	// Abort closes the connection.
	Abort *bool `json:"abort,omitempty"`
	// Delay is a Go duration to wait.
	Delay *string `json:"delay,omitempty"`
	// Replace replaces parts of the target.
	Replace *api.HTTPReplace `json:"replace,omitempty"`
	// Patch appends to parts of the target.
	Patch *api.HTTPPatch `json:"patch,omitempty"`
}

// DecodeRules parses the rules of an ApplyHttpChaos request. A field this
// stand-in does not know is an error rather than ignored, so that a newer
// controller's rule is never silently applied only in part.
func DecodeRules(rulesJSON string) ([]HTTPRule, error) {
	if strings.TrimSpace(rulesJSON) == "" {
		return nil, errors.New(`rules: empty; the controller sends a JSON list ("[]" for none)`)
	}
	dec := json.NewDecoder(strings.NewReader(rulesJSON))
	dec.DisallowUnknownFields()
	var rules []HTTPRule
	if err := dec.Decode(&rules); err != nil {
		return nil, fmt.Errorf("rules: %w; want a JSON list of PodHttpChaos rules (target, selector, actions)", err)
	}
	if dec.More() {
		return nil, errors.New("rules: more than one JSON document; want one list")
	}
	return rules, nil
}

// ProxyRule is the fault proxy rule that applies r as chaos-tproxy does,
// or an error naming the field the proxy cannot apply (as chaos-tproxy
// refuses such a configuration).
func ProxyRule(r HTTPRule) (tproxy.Rule, error) {
	sel, act := r.Selector, r.Actions
	p := tproxy.Rule{
		Target:          r.Target,
		Port:            deref(sel.Port),
		Path:            deref(sel.Path),
		Method:          deref(sel.Method),
		Code:            deref(sel.Code),
		RequestHeaders:  sel.RequestHeaders,
		ResponseHeaders: sel.ResponseHeaders,
		Abort:           deref(act.Abort),
		Delay:           deref(act.Delay),
		Replace:         act.Replace,
		Patch:           act.Patch,
	}
	return p, p.Validate()
}

// ProxyRules translates every rule, in order; the error names the first
// rule that the proxy cannot apply, by its index.
func ProxyRules(rules []HTTPRule) ([]tproxy.Rule, error) {
	out := make([]tproxy.Rule, len(rules))
	for i, r := range rules {
		p, err := ProxyRule(r)
		if err != nil {
			return nil, fmt.Errorf("rules[%d]: %w", i, err)
		}
		out[i] = p
	}
	return out, nil
}

// EncodeRules is the JSON of rules as the controller sends it.
func EncodeRules(rules []HTTPRule) (string, error) {
	if rules == nil {
		rules = []HTTPRule{}
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(rules); err != nil {
		return "", err
	}
	return strings.TrimSuffix(b.String(), "\n"), nil
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
