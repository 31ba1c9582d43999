package terraform

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Files Terraform writes that may hold secrets: the local state and its
// backup (sensitive outputs and attributes are in clear there), the
// workspaces' states, and the backend settings init keeps in .terraform.
const (
	stateFile       = "terraform.tfstate"
	stateBackupFile = "terraform.tfstate.backup"
	workspacesDir   = "terraform.tfstate.d"
	backendState    = ".terraform/terraform.tfstate"
)

// protectState makes the state files Terraform wrote in dir 0600 and their
// folders 0700. Terraform creates them 0644 (umask permitting); the
// working directory is 0700, but a copy of the folder, a backup tool or a
// later chmod must not make them readable to others.
func protectState(dir string) error {
	for _, name := range []string{stateFile, stateBackupFile, backendState} {
		if err := os.Chmod(filepath.Join(dir, name), 0o600); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("workdir: %w", err)
		}
	}
	err := filepath.WalkDir(filepath.Join(dir, workspacesDir), func(path string, d fs.DirEntry, err error) error {
		switch {
		case err != nil:
			return err
		case d.IsDir():
			return os.Chmod(path, 0o700)
		case d.Type().IsRegular():
			return os.Chmod(path, 0o600)
		}
		return nil
	})
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("workdir: %w", err)
	}
	return nil
}

// removeBackup deletes the state backup, which after a destroy still holds
// everything (sensitive outputs included) the state held before it.
func removeBackup(dir string) error {
	if err := os.Remove(filepath.Join(dir, stateBackupFile)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("workdir: %w", err)
	}
	return nil
}
