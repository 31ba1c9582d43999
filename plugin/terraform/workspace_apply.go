package terraform

import (
	"context"
	"io"

	"github.com/hashicorp/terraform-exec/tfexec"
)

// Apply runs terraform apply -auto-approve -input=false (after init when
// needed), logging Terraform's progress lines, and returns the changes it
// planned and the state afterwards. Applying an unchanged module changes
// nothing. Cancel interrupts Terraform, which stops its running
// operations and writes the state (a resource whose provisioner was
// interrupted is marked tainted and replaced by the next apply); Terraform
// is killed only after Options.Grace.
func (w *Workspace) Apply(ctx context.Context) (*Result, error) {
	if err := w.ensureInit(ctx); err != nil {
		return nil, err
	}
	ev, err := w.run(ctx, "apply", func(stdout io.Writer, varFiles []string) error {
		opts := []tfexec.ApplyOption{}
		for _, f := range varFiles {
			opts = append(opts, tfexec.VarFile(f))
		}
		return w.tf.ApplyJSON(ctx, stdout, opts...)
	})
	return w.finish(ctx, &Result{Changes: ev.plan()}, err)
}
