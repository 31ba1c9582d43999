package terraform

import "context"

// Output reads the state (after init when needed, e.g. for a remote
// backend) and returns its outputs and resources; sensitive output values
// are in Result.Sensitive only. It changes nothing.
func (w *Workspace) Output(ctx context.Context) (*Result, error) {
	if err := w.ensureInit(ctx); err != nil {
		return nil, err
	}
	return w.finish(ctx, &Result{}, nil)
}
