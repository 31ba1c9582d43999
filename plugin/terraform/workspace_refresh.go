package terraform

import (
	"context"
	"io"

	"github.com/hashicorp/terraform-exec/tfexec"
)

// Refresh runs terraform refresh (after init when needed): the state takes
// in changes made outside Terraform; no resource is changed. It returns the
// state afterwards. Cancel interrupts it.
func (w *Workspace) Refresh(ctx context.Context) (*Result, error) {
	if err := w.ensureInit(ctx); err != nil {
		return nil, err
	}
	_, err := w.run(ctx, "refresh", func(stdout io.Writer, varFiles []string) error {
		opts := []tfexec.RefreshCmdOption{}
		for _, f := range varFiles {
			opts = append(opts, tfexec.VarFile(f))
		}
		return w.tf.RefreshJSON(ctx, stdout, opts...)
	})
	return w.finish(ctx, &Result{}, err)
}
