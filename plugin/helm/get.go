package helm

import (
	"context"
	"fmt"
	"log/slog"

	"k8s.io/client-go/rest"
)

// Get returns the status of the newest revision of release name in
// namespace, or an error wrapping ErrNotFound.
func Get(ctx context.Context, cfg *rest.Config, name, namespace string, log *slog.Logger) (*Status, error) {
	if err := validateName(name, namespace); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s, err := newSession(cfg, namespace, log)
	if err != nil {
		return nil, err
	}
	hist, err := s.history(name)
	if err != nil {
		return nil, err
	}
	cur := last(hist)
	if cur == nil {
		return nil, fmt.Errorf("helm release %s: %w", ref(namespace, name), ErrNotFound)
	}
	return statusOf(cur, false, s.resources(cur)), nil
}
