package terraform

import (
	"context"
	"io"

	"github.com/hashicorp/terraform-exec/tfexec"
)

// Plan runs terraform plan (after init when needed) and returns the
// changes an apply would make, per resource address. It changes nothing;
// cancel interrupts it.
func (w *Workspace) Plan(ctx context.Context) (*Result, error) {
	if err := w.ensureInit(ctx); err != nil {
		return nil, err
	}
	ev, err := w.run(ctx, "plan", func(stdout io.Writer, varFiles []string) error {
		opts := []tfexec.PlanOption{}
		for _, f := range varFiles {
			opts = append(opts, tfexec.VarFile(f))
		}
		_, err := w.tf.PlanJSON(ctx, stdout, opts...)
		return err
	})
	res := &Result{Changes: ev.plan()}
	if err != nil {
		res.Lock = w.lockFrom(err)
		return res, err
	}
	return res, nil
}
