package api

import "github.com/cloudify-chaos/chaosops/plugin/redact"

// secretHolder is a spec with secret-looking values: mapSecrets returns a
// copy of the spec with each of them replaced by f(value), and each name
// of a Secret it refers to by ref(name).
type secretHolder interface {
	mapSecrets(f, ref func(string) string) Spec
}

// Redacted returns s as it may be kept or printed (journals, reports,
// runtime properties, CLI output): a copy whose secret-looking values are
// replaced by redact.Mask, or s itself when its kind holds none. s is not
// modified: the chaos object is created from it with the real values,
// which the fault needs.
func Redacted(s Spec) Spec {
	if h, ok := s.(secretHolder); ok {
		mask := func(string) string { return redact.Mask }
		return h.mapSecrets(mask, mask)
	}
	return s
}

// SecretValues lists the values Redacted masks, for a redact.Redactor to
// mask wherever else they appear (an error quoting the object). Secret
// names are left out: masking a name everywhere would also hide a
// namespace or object of the same name.
func SecretValues(s Spec) []string {
	var out []string
	if h, ok := s.(secretHolder); ok {
		h.mapSecrets(func(v string) string {
			out = append(out, v)
			return v
		}, func(v string) string { return v })
	}
	return out
}

// mapSecrets maps the values of secret-looking headers (redact.
// SensitiveHeader) in the request and response matchers, replace.headers
// and patch.headers, and the name of the TLS Secret.
func (s *HTTPChaosSpec) mapSecrets(f, ref func(string) string) Spec {
	if s == nil {
		return s
	}
	c := *s
	c.RequestHeaders, c.ResponseHeaders = mapHeaders(s.RequestHeaders, f), mapHeaders(s.ResponseHeaders, f)
	if s.Replace != nil {
		r := *s.Replace
		r.Headers = mapHeaders(s.Replace.Headers, f)
		c.Replace = &r
	}
	if s.Patch != nil {
		p := *s.Patch
		p.Headers = mapPairs(s.Patch.Headers, f)
		c.Patch = &p
	}
	if s.TLS != nil {
		t := *s.TLS
		t.SecretName = ref(s.TLS.SecretName)
		c.TLS = &t
	}
	return &c
}

func mapHeaders(h map[string]string, f func(string) string) map[string]string {
	if h == nil {
		return nil
	}
	out := make(map[string]string, len(h))
	for k, v := range h {
		if redact.SensitiveHeader(k) {
			v = f(v)
		}
		out[k] = v
	}
	return out
}

// mapPairs maps the [name, value] pairs of patch.headers.
func mapPairs(pairs [][]string, f func(string) string) [][]string {
	if pairs == nil {
		return nil
	}
	out := make([][]string, len(pairs))
	for i, p := range pairs {
		p = append([]string(nil), p...)
		if len(p) == 2 && redact.SensitiveHeader(p[0]) {
			p[1] = f(p[1])
		}
		out[i] = p
	}
	return out
}
