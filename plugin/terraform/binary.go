package terraform

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"

	"github.com/hashicorp/go-version"
	"github.com/hashicorp/terraform-exec/tfexec"
)

// BinaryError says that the terraform executable is missing, unusable or
// too old, and what to do about it.
type BinaryError struct {
	Binary  string // as given in Options.Binary
	Path    string // where it was found; empty when it was not
	Version string // the version found; empty when unknown
	Min     string
	Err     error
}

func (e *BinaryError) Error() string {
	switch {
	case e.Path == "":
		return fmt.Sprintf("terraform not found at %q (%v): install Terraform >= %s or give the path of the terraform binary", e.Binary, e.Err, e.Min)
	case e.Version == "":
		return fmt.Sprintf("terraform at %s does not run (%v): install Terraform >= %s or give the path of a working terraform binary", e.Path, e.Err, e.Min)
	}
	return fmt.Sprintf("terraform at %s is version %s, older than %s: install Terraform >= %s or give the path of a newer terraform binary", e.Path, e.Version, e.Min, e.Min)
}

func (e *BinaryError) Unwrap() error { return e.Err }

// findBinary resolves name (a path, or a name looked up on PATH) to an
// absolute path.
func findBinary(name, min string) (string, error) {
	path, err := exec.LookPath(name)
	if err != nil {
		var ee *exec.Error
		if errors.As(err, &ee) {
			err = ee.Err // "executable file not found in $PATH", without repeating the name
		}
		return "", &BinaryError{Binary: name, Min: min, Err: err}
	}
	if abs, aerr := filepath.Abs(path); aerr == nil {
		path = abs
	}
	return path, nil
}

// checkVersion asks the binary for its version (terraform version -json)
// and compares it with min.
func checkVersion(ctx context.Context, tf *tfexec.Terraform, binary, min string) (*version.Version, error) {
	have, _, err := tf.Version(ctx, true)
	if err != nil {
		if ctx.Err() != nil {
			return nil, context.Cause(ctx)
		}
		return nil, &BinaryError{Binary: binary, Path: tf.ExecPath(), Min: min, Err: err}
	}
	if err := atLeast(have, min); err != nil {
		return have, &BinaryError{Binary: binary, Path: tf.ExecPath(), Version: have.String(), Min: min, Err: err}
	}
	return have, nil
}

// atLeast reports whether have is min or newer; pre-releases count as
// their release (1.6.0-beta1 satisfies 1.6.0).
func atLeast(have *version.Version, min string) error {
	want, err := version.NewVersion(min)
	if err != nil {
		return fmt.Errorf("minimum version %q is not a version; use e.g. %s", min, DefaultMinVersion)
	}
	if have.Core().LessThan(want.Core()) {
		return fmt.Errorf("version %s is older than %s", have, want)
	}
	return nil
}
