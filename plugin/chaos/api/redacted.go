package api

import "github.com/cloudify-chaos/chaosops/plugin/redact"

// Redacted returns s as it may be kept or printed (journals, reports,
// runtime properties, CLI output): a copy whose secret-looking values are
// replaced by redact.Mask, or s itself when its kind holds none. s is not
// modified: the chaos object is created from it with the real values,
// which the fault needs.
func Redacted(s Spec) Spec {
	if r, ok := s.(interface{ redacted() Spec }); ok {
		return r.redacted()
	}
	return s
}

// redacted masks the values of secret-looking headers (redact.
// SensitiveHeader) in the request and response matchers, replace.headers
// and patch.headers, and the name of the TLS Secret.
func (s *HTTPChaosSpec) redacted() Spec {
	if s == nil {
		return s
	}
	c := *s
	c.RequestHeaders, c.ResponseHeaders = maskedHeaders(s.RequestHeaders), maskedHeaders(s.ResponseHeaders)
	if s.Replace != nil {
		r := *s.Replace
		r.Headers = maskedHeaders(s.Replace.Headers)
		c.Replace = &r
	}
	if s.Patch != nil {
		p := *s.Patch
		p.Headers = maskedPairs(s.Patch.Headers)
		c.Patch = &p
	}
	if s.TLS != nil {
		t := *s.TLS
		t.SecretName = redact.Mask
		c.TLS = &t
	}
	return &c
}

func maskedHeaders(h map[string]string) map[string]string {
	if h == nil {
		return nil
	}
	out := make(map[string]string, len(h))
	for k, v := range h {
		if redact.SensitiveHeader(k) {
			v = redact.Mask
		}
		out[k] = v
	}
	return out
}

// maskedPairs masks the [name, value] pairs of patch.headers.
func maskedPairs(pairs [][]string) [][]string {
	if pairs == nil {
		return nil
	}
	out := make([][]string, len(pairs))
	for i, p := range pairs {
		p = append([]string(nil), p...)
		if len(p) == 2 && redact.SensitiveHeader(p[0]) {
			p[1] = redact.Mask
		}
		out[i] = p
	}
	return out
}
