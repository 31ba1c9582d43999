package operation

import (
	"context"
	"log/slog"
	"sort"
	"sync"

	"github.com/cloudify-chaos/chaosops/plugin/cloudify"
	"github.com/cloudify-chaos/chaosops/plugin/redact"
)

// Op is what a handler sees of its operation.
type Op struct {
	Name     string // the handler name, e.g. kubernetes.apply
	FullName string // the operation name Cloudify gave, e.g. cloudify.interfaces.lifecycle.create
	Inputs   cloudify.Inputs
	Ctx      cloudify.Context
	Log      *slog.Logger
	Redactor *redact.Redactor

	mu       sync.Mutex
	staged   map[string]any
	secrets  map[string]any // written unmasked: see SetSecretProp
	returned any
	hasRet   bool
}

// SetProp stages a runtime property; staged values are written once, when
// the handler returns (also on failure, so partial results are kept).
func (o *Op) SetProp(key string, v any) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.staged == nil {
		o.staged = map[string]any{}
	}
	o.staged[key] = v
}

// SetSecretProp stages a runtime property that holds a secret on purpose
// (e.g. a dashboard token a capability must expose). It is written as is,
// not masked; everything else that contains the value is.
func (o *Op) SetSecretProp(key string, v any) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.secrets == nil {
		o.secrets = map[string]any{}
	}
	o.secrets[key] = v
}

// SetPropNow writes a runtime property and persists it at once. Use it to
// record intent before acting (e.g. the name of an object about to be
// created), so cleanup can find it even if the process dies.
func (o *Op) SetPropNow(ctx context.Context, key string, v any) error {
	o.mu.Lock()
	delete(o.staged, key)
	o.mu.Unlock()
	if err := o.Ctx.SetRuntimeProperty(ctx, key, o.Redactor.Value(v)); err != nil {
		return err
	}
	return o.Ctx.Update(ctx)
}

// Return sets the operation's return value (ctx returns).
func (o *Op) Return(v any) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.returned, o.hasRet = v, true
}

// flush writes staged runtime properties, one call per key, then persists.
func (o *Op) flush(ctx context.Context) error {
	o.mu.Lock()
	keys := make([]string, 0, len(o.staged))
	for k := range o.staged {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	staged, secrets := o.staged, o.secrets
	o.staged, o.secrets = nil, nil
	o.mu.Unlock()
	for _, k := range keys {
		if err := o.Ctx.SetRuntimeProperty(ctx, k, o.Redactor.Value(staged[k])); err != nil {
			return err
		}
	}
	for k, v := range secrets {
		if err := o.Ctx.SetRuntimeProperty(ctx, k, v); err != nil {
			return err
		}
	}
	if len(keys) == 0 && len(secrets) == 0 {
		return nil
	}
	return o.Ctx.Update(ctx)
}
