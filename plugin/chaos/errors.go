package chaos

import (
	"errors"
	"fmt"
	"regexp"
)

// PrecheckError means the run was refused before anything was created: a
// guardrail, the safety lever, the preflight or a gate probe said no.
type PrecheckError struct {
	Check string // e.g. "guardrail allowed_namespaces", "preflight selector"
	Msg   string
}

func (e *PrecheckError) Error() string { return e.Check + ": " + e.Msg }

func precheckf(check, format string, args ...any) error {
	return &PrecheckError{Check: check, Msg: fmt.Sprintf(format, args...)}
}

// IsPrecheck reports whether err refused the run before it started.
func IsPrecheck(err error) bool {
	var p *PrecheckError
	return errors.As(err, &p)
}

// webhookDenialPattern matches the API server's message for a request an
// admission webhook refused (k8s.io/apiserver's webhook ToStatusErr):
// `admission webhook "vauth.kb.io" denied the request: ...`.
var webhookDenialPattern = regexp.MustCompile(`admission webhook "[^"]+" denied the request`)

// webhookDenial returns the API server's message when err is an admission
// webhook's denial.
func webhookDenial(err error) (string, bool) {
	if err == nil {
		return "", false
	}
	if m := err.Error(); webhookDenialPattern.MatchString(m) {
		return m, true
	}
	return "", false
}
