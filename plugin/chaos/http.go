package chaos

import (
	"net/http"
	"strings"
	"time"

	"github.com/cloudify-chaos/chaosops/plugin/chaos/api"
	"github.com/cloudify-chaos/chaosops/plugin/failure"
)

// Defaults of the HTTPChaos template, as the operation and the CLI offer
// them (HTTPObject itself defaults Mode and Target only).
const (
	DefaultNamespace  = "default"
	DefaultHTTPTarget = "Request"
	DefaultHTTPPort   = 8080
	DefaultHTTPPath   = "/"
)

// HTTPOptions are the inputs of run_http_chaos and `chaosops chaos http`.
type HTTPOptions struct {
	Namespace string
	// Selector is app=demo,tier=web style labels of the target pods.
	Selector map[string]string
	Mode     string // one, all, fixed, fixed-percent, random-max-percent
	Value    string
	Target   string // Request or Response
	Port     int
	Path     string
	Method   string
	// Actions: at least one.
	Abort   bool
	Delay   time.Duration
	Replace *api.HTTPReplace
	Patch   *api.HTTPPatch
	// Code selects responses by status (target Response only).
	Code     int
	Duration time.Duration
}

// ParseSelector reads "a=b,c=d" into labels; the error names the field.
func ParseSelector(s string) (map[string]string, error) {
	out := map[string]string{}
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		if !ok || strings.TrimSpace(k) == "" {
			return nil, failure.Invalidf("selector", "%q is not key=value; use e.g. app=demo", part)
		}
		out[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	return out, nil
}

// HTTPObject builds the HTTPChaos for o, with errors naming the input.
func HTTPObject(o HTTPOptions) (*api.Object, error) {
	if o.Namespace == "" {
		return nil, failure.Invalidf("namespace", "not set; give the namespace of the target pods")
	}
	if len(o.Selector) == 0 {
		return nil, failure.Invalidf("selector", "not set; give the labels of the target pods, e.g. app=demo (an empty selector would hit every pod)")
	}
	if o.Port <= 0 || o.Port > 65535 {
		return nil, failure.Invalidf("port", "%d is not a port; use the container port the app listens on, e.g. 8080", o.Port)
	}
	if o.Mode == "" {
		o.Mode = string(api.ModeOne) // the least blast radius; mode all needs allow_all_targets
	}
	target := api.HTTPTarget(o.Target)
	switch strings.ToLower(o.Target) {
	case "", "request":
		target = "Request"
	case "response":
		target = "Response"
	default:
		return nil, failure.Invalidf("target", "%q is not Request or Response", o.Target)
	}
	spec := &api.HTTPChaosSpec{Target: target, Port: int32(o.Port)}
	spec.Selector = api.PodSelectorSpec{Namespaces: []string{o.Namespace}, LabelSelectors: o.Selector}
	spec.Mode, spec.Value = api.Mode(o.Mode), o.Value
	if o.Path != "" {
		p := o.Path
		spec.Path = &p
	}
	if o.Method != "" {
		m := strings.ToUpper(o.Method)
		switch m {
		case http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch, http.MethodHead, http.MethodOptions:
		default:
			return nil, failure.Invalidf("method", "%q is not an HTTP method; use e.g. GET", o.Method)
		}
		spec.Method = &m
	}
	if o.Code != 0 {
		if target != "Response" {
			return nil, failure.Invalidf("code", "selects responses; set target: Response or remove code")
		}
		c := int32(o.Code)
		spec.Code = &c
	}
	actions := 0
	if o.Abort {
		t := true
		spec.Abort = &t
		actions++
	}
	if o.Delay > 0 {
		d := o.Delay.String()
		spec.Delay = &d
		actions++
	}
	if o.Replace != nil {
		spec.Replace = o.Replace
		actions++
	}
	if o.Patch != nil {
		spec.Patch = o.Patch
		actions++
	}
	if actions == 0 {
		return nil, failure.Invalidf("abort", "no action given; set abort: true, delay, replace or patch")
	}
	if o.Duration > 0 {
		d := o.Duration.String()
		spec.Duration = &d
	}
	// The full object is validated by Run, once it has its name.
	return api.NewObject(o.Namespace, "", spec), nil
}
