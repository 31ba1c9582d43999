package terraform

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// Init runs terraform init: it configures the backend and installs the
// providers and modules the configuration needs (kept in .terraform/ for
// later runs). A backend that changed since the last init makes it fail
// with Terraform's explanation; state is never migrated implicitly.
// Cancel interrupts it; nothing needs undoing.
func (w *Workspace) Init(ctx context.Context) error {
	_, err := w.run(ctx, "init", func(io.Writer, []string) error {
		return w.tf.Init(ctx)
	})
	if err != nil {
		return err
	}
	stamp, err := w.initStamp()
	if err != nil {
		return fmt.Errorf("record the init: %w", err)
	}
	return writeFileAtomic(filepath.Join(w.opt.WorkDir, initFile), []byte(stamp), 0o600)
}

// ensureInit runs Init when the module, the backend, the terraform version
// or the .terraform folder changed since the last successful init, so that
// every command also works on a fresh working directory (a re-run on
// another manager worker).
func (w *Workspace) ensureInit(ctx context.Context) error {
	want, err := w.initStamp()
	if err != nil {
		return fmt.Errorf("workdir: %w", err)
	}
	have, err := os.ReadFile(filepath.Join(w.opt.WorkDir, initFile))
	if err == nil && string(have) == want {
		return nil
	}
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("workdir: %w", err)
	}
	w.log.Debug("the working directory needs terraform init")
	return w.Init(ctx)
}

// initStamp describes what init depends on.
func (w *Workspace) initStamp() (string, error) {
	digest, err := moduleDigest(w.opt.WorkDir)
	if err != nil {
		return "", err
	}
	data := "absent"
	if _, err := os.Stat(filepath.Join(w.opt.WorkDir, ".terraform")); err == nil {
		data = "present"
	}
	return fmt.Sprintf("module %s\nterraform %s\n.terraform %s\n", digest, w.version, data), nil
}
