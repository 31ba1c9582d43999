package terraform

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/hashicorp/terraform-exec/tfexec"
)

// Destroy runs terraform destroy -auto-approve (after init when needed)
// and returns what it destroyed and the state afterwards, which then holds
// no resources. Once the state is empty the state backup, which still holds
// the destroyed resources and outputs, is removed. Destroying again changes
// nothing. Cancel interrupts Terraform as Apply does; what was not
// destroyed stays in the state.
func (w *Workspace) Destroy(ctx context.Context) (*Result, error) {
	if err := w.ensureInit(ctx); err != nil {
		return nil, err
	}
	ev, err := w.run(ctx, "destroy", func(stdout io.Writer, varFiles []string) error {
		opts := []tfexec.DestroyOption{}
		for _, f := range varFiles {
			opts = append(opts, tfexec.VarFile(f))
		}
		return w.tf.DestroyJSON(ctx, stdout, opts...)
	})
	res, err := w.finish(ctx, &Result{Changes: ev.plan()}, err)
	if err == nil && res.State != nil && len(res.State.Resources) == 0 {
		if err := removeBackup(w.opt.WorkDir); err != nil {
			return res, err
		}
	}
	return res, err
}

// Remove deletes the working directory (module copy, provider cache,
// state) once the state holds no resources; call it after Destroy when
// nothing is to be kept.
func (w *Workspace) Remove(ctx context.Context) error {
	sum, _, err := w.readState(ctx)
	if err != nil {
		return err
	}
	if n := len(sum.Resources); n > 0 {
		return fmt.Errorf("workdir %s: the state still holds %d resources (e.g. %s); destroy them first", w.opt.WorkDir, n, sum.Resources[0].Address)
	}
	if err := os.RemoveAll(w.opt.WorkDir); err != nil {
		return fmt.Errorf("workdir: %w", err)
	}
	return nil
}
