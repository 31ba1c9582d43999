package api

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"
)

// HTTPTarget says whether HTTPChaos acts on requests or responses.
type HTTPTarget string

// The HTTPChaos targets.
const (
	// HTTPRequest acts on requests reaching the selected pods.
	HTTPRequest HTTPTarget = "Request"
	// HTTPResponse acts on responses sent by the selected pods.
	HTTPResponse HTTPTarget = "Response"
)

// HTTPChaosSpec is the spec of an HTTPChaos: it intercepts HTTP traffic on
// a port of the selected pods and aborts, delays, replaces or patches the
// matching requests or responses. Records are per pod.
type HTTPChaosSpec struct {
	PodSelector `json:",inline"`
	CommonSpec  `json:",inline"`

	// Target is Request or Response.
	Target HTTPTarget `json:"target"`
	// Port is the container port the HTTP server listens on (required by
	// Chaos Mesh's webhook).
	Port int32 `json:"port,omitempty"`

	// Path selects requests by URI path; "*" wildcards are allowed.
	Path *string `json:"path,omitempty"`
	// Method selects requests by HTTP method.
	Method *string `json:"method,omitempty"`
	// Code selects responses by status code (target Response only).
	Code *int32 `json:"code,omitempty"`
	// RequestHeaders selects by request header values.
	RequestHeaders map[string]string `json:"request_headers,omitempty"`
	// ResponseHeaders selects by response header values.
	ResponseHeaders map[string]string `json:"response_headers,omitempty"`

	// Abort aborts the connection.
	Abort *bool `json:"abort,omitempty"`
	// Delay delays the request or response by a Go duration ("300ms").
	Delay *string `json:"delay,omitempty"`
	// Replace replaces parts of the request or response.
	Replace *HTTPReplace `json:"replace,omitempty"`
	// Patch appends to parts of the request or response.
	Patch *HTTPPatch `json:"patch,omitempty"`

	// TLS names the secret holding the certificates for HTTPS traffic.
	TLS *HTTPTLS `json:"tls,omitempty"`
}

// HTTPReplace replaces parts of the target.
type HTTPReplace struct {
	// Path replaces the URI path (Request only).
	Path *string `json:"path,omitempty"`
	// Method replaces the method (Request only).
	Method *string `json:"method,omitempty"`
	// Code replaces the status code (Response only).
	Code *int32 `json:"code,omitempty"`
	// Body replaces the body; it is base64 in JSON and YAML.
	Body []byte `json:"body,omitempty"`
	// Queries replaces URI query values (Request only).
	Queries map[string]string `json:"queries,omitempty"`
	// Headers replaces header values.
	Headers map[string]string `json:"headers,omitempty"`
}

// HTTPPatch appends to parts of the target.
type HTTPPatch struct {
	// Body merges a JSON patch into the body.
	Body *HTTPPatchBody `json:"body,omitempty"`
	// Queries appends URI queries as [name, value] pairs (Request only).
	Queries [][]string `json:"queries,omitempty"`
	// Headers appends headers as [name, value] pairs.
	Headers [][]string `json:"headers,omitempty"`
}

// HTTPPatchBody is a body patch.
type HTTPPatchBody struct {
	// Type is the patch type; only "JSON" (RFC 7396 merge patch) exists.
	Type string `json:"type"`
	// Value is the patch document.
	Value string `json:"value"`
}

// HTTPTLS locates the TLS material in a Secret.
type HTTPTLS struct {
	// SecretName is the Secret's name.
	SecretName string `json:"secretName"`
	// SecretNamespace is the Secret's namespace.
	SecretNamespace string `json:"secretNamespace"`
	// CertName is the key of the certificate in the Secret, e.g. "tls.crt".
	CertName string `json:"certName"`
	// KeyName is the key of the private key in the Secret, e.g. "tls.key".
	KeyName string `json:"keyName"`
	// CAName is the key of the CA certificate in the Secret, e.g. "ca.crt".
	CAName *string `json:"caName,omitempty"`
}

// Kind returns "HTTPChaos".
func (*HTTPChaosSpec) Kind() string { return "HTTPChaos" }

// Targets returns the pod selector; records are per pod.
func (s *HTTPChaosSpec) Targets() []Target { return podTarget(&s.PodSelector) }

// OneShot returns false.
func (*HTTPChaosSpec) OneShot() bool { return false }

var httpMethods = []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete,
	http.MethodPatch, http.MethodHead, http.MethodOptions, http.MethodTrace, http.MethodConnect}

func (s *HTTPChaosSpec) validate(v *validator) {
	v.podSelector("spec", &s.PodSelector)
	v.enum("spec.target", string(s.Target), string(HTTPRequest), string(HTTPResponse))
	if s.Port < 1 || s.Port > 65535 {
		problem := "missing"
		if s.Port != 0 {
			problem = strconv.Itoa(int(s.Port)) + " is not a port"
		}
		v.add("spec.port", problem, "set the container port the HTTP server listens on, e.g. port: 8080")
	}
	request, response := s.Target == HTTPRequest, s.Target == HTTPResponse
	if s.Method != nil && request {
		v.enum("spec.method", *s.Method, httpMethods...)
	}
	if s.Code != nil && request {
		v.add("spec.code", "selects responses by status code but target is Request", "remove code, or set target: Response")
	}
	if s.Abort == nil && s.Delay == nil && s.Replace == nil && s.Patch == nil {
		v.add("spec", "has no action", "set one of abort, delay, replace or patch")
	}
	if s.Delay != nil {
		if d, err := time.ParseDuration(*s.Delay); err != nil || d < 0 {
			v.add("spec.delay", quote(*s.Delay)+" is not a duration", `use e.g. delay: "500ms"`)
		}
	}
	if r := s.Replace; r != nil {
		requestOnly := map[string]bool{"path": r.Path != nil, "method": r.Method != nil, "queries": len(r.Queries) > 0}
		for _, f := range []string{"path", "method", "queries"} {
			if requestOnly[f] && response {
				v.add("spec.replace."+f, "only applies to requests but target is Response", "remove replace."+f+", or set target: Request")
			}
		}
		if r.Method != nil && request {
			v.enum("spec.replace.method", *r.Method, httpMethods...)
		}
		if r.Code != nil {
			if request {
				v.add("spec.replace.code", "only applies to responses but target is Request", "remove replace.code, or set target: Response")
			} else {
				v.between("spec.replace.code", int64(*r.Code), 100, 599, "use an HTTP status code, e.g. 503")
			}
		}
	}
	if p := s.Patch; p != nil {
		if len(p.Queries) > 0 && response {
			v.add("spec.patch.queries", "only applies to requests but target is Response", "remove patch.queries, or set target: Request")
		}
		pairs("spec.patch.queries", p.Queries, v)
		pairs("spec.patch.headers", p.Headers, v)
		if b := p.Body; b != nil {
			if b.Type != "JSON" {
				v.add("spec.patch.body.type", valueProblem(b.Type, `"JSON"`), "set type: JSON (a JSON merge patch)")
			}
			if !json.Valid([]byte(b.Value)) {
				v.add("spec.patch.body.value", "is not a JSON document", `write the merge patch as JSON, e.g. '{"status":"failed"}'`)
			}
		}
	}
	if t := s.TLS; t != nil {
		v.required("spec.tls.secretName", t.SecretName, "name the Secret holding the certificate")
		v.required("spec.tls.secretNamespace", t.SecretNamespace, "set the namespace of the Secret")
		v.required("spec.tls.certName", t.CertName, `name the certificate's key in the Secret, e.g. "tls.crt"`)
		v.required("spec.tls.keyName", t.KeyName, `name the private key's key in the Secret, e.g. "tls.key"`)
	}
}

// pairs checks that every entry of a [name, value] list has two elements.
func pairs(path string, list [][]string, v *validator) {
	for i, p := range list {
		if len(p) != 2 {
			v.add(path+"["+strconv.Itoa(i)+"]", "has "+strconv.Itoa(len(p))+" elements", `write a [name, value] pair, e.g. ["X-Chaos", "1"]`)
		}
	}
}
