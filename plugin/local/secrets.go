package local

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/cloudify-chaos/chaosops/plugin/yamllimit"
)

// SecretEnvPrefix: CHAOSOPS_SECRET_<name> supplies secret <name>; in the
// name, "__" stands for "-" since variable names cannot hold dashes.
const SecretEnvPrefix = "CHAOSOPS_SECRET_"

// Secrets answers get_secret in local mode, from a YAML file (name: value)
// and from the environment, which wins. Values are never written to state.
type Secrets struct {
	File   string
	values map[string]any
}

// Load reads the secrets file, if it exists.
func (s *Secrets) Load() error {
	s.values = map[string]any{}
	if s.File == "" {
		return nil
	}
	info, err := os.Stat(s.File)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("secrets file %s: %w", s.File, err)
	}
	if info.Mode().Perm()&0o077 != 0 {
		return fmt.Errorf("secrets file %s is readable by others (mode %o); run chmod 600 %s", s.File, info.Mode().Perm(), s.File)
	}
	b, err := yamllimit.ReadFile(s.File)
	var le *yamllimit.Error
	if errors.As(err, &le) {
		return fmt.Errorf("secrets file %w", err)
	}
	if err != nil {
		return fmt.Errorf("secrets file %s: %w", s.File, err)
	}
	if err := yamllimit.Unmarshal(s.File, b, &s.values); err != nil {
		if errors.As(err, &le) {
			// Its errors name the line, never the content.
			where := ""
			if le.Line > 0 {
				where = fmt.Sprintf("line %d: ", le.Line)
			}
			return fmt.Errorf("secrets file %s is not a YAML mapping of name: value (%s%s)", s.File, where, le.Msg)
		}
		return fmt.Errorf("secrets file %s is not a YAML mapping of name: value", s.File)
	}
	return nil
}

// Get returns a secret by name.
func (s *Secrets) Get(name string) (any, error) {
	env := SecretEnvPrefix + strings.ReplaceAll(name, "-", "__")
	if v, ok := os.LookupEnv(env); ok {
		return v, nil
	}
	if v, ok := s.values[name]; ok {
		return v, nil
	}
	return nil, fmt.Errorf("secret %q is not set: add it to %s or export %s", name, s.File, env)
}

// Values lists every known secret value, for redaction.
func (s *Secrets) Values() []string {
	var out []string
	for _, v := range s.values {
		if str, ok := v.(string); ok {
			out = append(out, str)
		}
	}
	for _, kv := range os.Environ() {
		if k, v, ok := strings.Cut(kv, "="); ok && strings.HasPrefix(k, SecretEnvPrefix) {
			out = append(out, v)
		}
	}
	return out
}
