// Package redact keeps secrets (tokens, kubeconfigs, keys) out of every log
// line, error text, runtime property and report: values registered once are
// replaced wherever they later appear.
package redact

import (
	"context"
	"log/slog"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
)

// Mask replaces a secret in output.
const Mask = "[REDACTED]"

// minLen avoids masking short, common strings ("true", port numbers).
const minLen = 6

// Redactor holds the secrets of one process. The zero value is ready.
type Redactor struct {
	mu      sync.RWMutex
	secrets []string // longest first, so a secret that contains another is masked whole
	rep     *strings.Replacer
}

// Add registers secret values. Multi-line values (kubeconfigs, PEM) are also
// registered line by line, since errors often quote one line of them.
func (r *Redactor) Add(values ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, v := range values {
		r.add(strings.TrimSpace(v))
		if strings.Contains(v, "\n") {
			for _, line := range strings.Split(v, "\n") {
				line = strings.TrimSpace(line)
				// Structural lines (apiVersion: v1, -----BEGIN ...) and the
				// kubeconfig fields that only say where to connect are not
				// secret; masking the server URL would hide it in every
				// connection error.
				if len(line) >= 24 && !strings.HasPrefix(line, "-----") && !publicLine(line) {
					r.add(line)
					if _, val, ok := strings.Cut(line, ": "); ok && len(val) >= 16 {
						r.add(strings.Trim(val, `"' `))
					}
				}
			}
		}
	}
	sort.Slice(r.secrets, func(i, j int) bool { return len(r.secrets[i]) > len(r.secrets[j]) })
	pairs := make([]string, 0, 2*len(r.secrets))
	for _, s := range r.secrets {
		pairs = append(pairs, s, Mask)
	}
	r.rep = strings.NewReplacer(pairs...)
}

// publicKeys are kubeconfig keys whose values are not secret.
var publicKeys = []string{"server", "name", "cluster", "user", "namespace", "context", "current-context",
	"certificate-authority", "certificate-authority-data", "tls-server-name", "proxy-url"}

// publicLine reports a "key: value" line of a kubeconfig whose key is one
// of publicKeys.
func publicLine(line string) bool {
	key, _, ok := strings.Cut(strings.TrimPrefix(line, "- "), ":")
	return ok && slices.Contains(publicKeys, strings.TrimSpace(key))
}

func (r *Redactor) add(v string) {
	if len(v) < minLen {
		return
	}
	for _, s := range r.secrets {
		if s == v {
			return
		}
	}
	r.secrets = append(r.secrets, v)
}

// String masks every registered secret in s.
func (r *Redactor) String(s string) string {
	if r == nil {
		return s
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	if r.rep == nil {
		return s
	}
	return r.rep.Replace(s)
}

// Value returns a copy of v (maps, lists, strings) with secrets masked.
func (r *Redactor) Value(v any) any {
	switch t := v.(type) {
	case string:
		return r.String(t)
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, e := range t {
			out[k] = r.Value(e)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = r.Value(e)
		}
		return out
	default:
		return v
	}
}

// Error wraps err so that its text is masked; errors.Is/As still see err.
func (r *Redactor) Error(err error) error {
	if err == nil {
		return nil
	}
	return &redactedError{err: err, r: r}
}

type redactedError struct {
	err error
	r   *Redactor
}

func (e *redactedError) Error() string { return e.r.String(e.err.Error()) }
func (e *redactedError) Unwrap() error { return e.err }

// Handler wraps a slog.Handler so that messages and string attributes are
// masked before they reach it.
func (r *Redactor) Handler(h slog.Handler) slog.Handler { return &handler{next: h, r: r} }

type handler struct {
	next slog.Handler
	r    *Redactor
}

func (h *handler) Enabled(ctx context.Context, l slog.Level) bool { return h.next.Enabled(ctx, l) }

func (h *handler) Handle(ctx context.Context, rec slog.Record) error {
	out := slog.NewRecord(rec.Time, rec.Level, h.r.String(rec.Message), rec.PC)
	rec.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(h.attr(a))
		return true
	})
	return h.next.Handle(ctx, out)
}

func (h *handler) attr(a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		return slog.String(a.Key, h.r.String(v.String()))
	case slog.KindGroup:
		g := v.Group()
		out := make([]any, len(g))
		for i, e := range g {
			out[i] = h.attr(e)
		}
		return slog.Group(a.Key, out...)
	case slog.KindAny:
		if err, ok := v.Any().(error); ok {
			return slog.String(a.Key, h.r.String(err.Error()))
		}
		return slog.Any(a.Key, h.r.Value(v.Any()))
	}
	return a
}

func (h *handler) WithAttrs(as []slog.Attr) slog.Handler {
	masked := make([]slog.Attr, len(as))
	for i, a := range as {
		masked[i] = h.attr(a)
	}
	return &handler{next: h.next.WithAttrs(masked), r: h.r}
}

func (h *handler) WithGroup(name string) slog.Handler {
	return &handler{next: h.next.WithGroup(name), r: h.r}
}

// SensitiveName reports whether an input or flag name suggests a secret.
func SensitiveName(name string) bool {
	n := strings.ToLower(name)
	for _, w := range []string{"token", "password", "passwd", "secret", "kubeconfig", "private", "key_data", "client_key", "credential", "api_key", "apikey"} {
		if strings.Contains(n, w) {
			return true
		}
	}
	return strings.HasSuffix(n, "_key") || n == "key"
}

// URL returns u for logs and errors without the parts that may carry
// credentials: user info, query and fragment (signed download URLs).
func URL(u *url.URL) string {
	c := *u
	c.User = nil
	c.RawQuery, c.ForceQuery, c.Fragment, c.RawFragment = "", false, "", ""
	return c.String()
}

// Password returns raw with the password of its user info masked (query
// kept); placeholder when raw does not parse.
func Password(raw, placeholder string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return placeholder
	}
	return u.Redacted()
}

// secretHeaders are the HTTP headers that carry credentials by definition.
var secretHeaders = []string{"authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key"}

// SensitiveHeader reports whether the value of the HTTP header name must
// be masked wherever it is kept or printed: the credential headers, and
// any header named like a token, secret, key, password or session.
func SensitiveHeader(name string) bool {
	n := strings.ToLower(strings.TrimSpace(name))
	if slices.Contains(secretHeaders, n) {
		return true
	}
	for _, w := range []string{"token", "secret", "key", "passw", "session", "auth", "credential"} {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}
