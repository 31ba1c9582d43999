package terraform

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/hashicorp/terraform-exec/tfexec"
)

// writeJSONFile writes v as indented JSON with mode 0600, atomically; a
// nil or empty v removes the file.
func writeJSONFile(path string, v map[string]any) error {
	if len(v) == 0 {
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		return nil
	}
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(path, append(b, '\n'), 0o600)
}

// writeFileAtomic writes through a temporary file in the same folder, so
// a crash never leaves half a file; the mode is set before any byte is
// written.
func writeFileAtomic(path string, data []byte, mode fs.FileMode) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp) // after a successful rename there is nothing to remove
	if err := f.Chmod(mode); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// writeBackend writes or removes the backend override file.
func writeBackend(dir string, b *Backend) error {
	path := filepath.Join(dir, BackendFile)
	if b == nil {
		return writeJSONFile(path, nil)
	}
	cfg := b.Config
	if cfg == nil {
		cfg = map[string]any{}
	}
	doc := map[string]any{"terraform": map[string]any{"backend": map[string]any{b.Type: cfg}}}
	bs, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return fmt.Errorf("backend: %w", err)
	}
	return writeFileAtomic(path, append(bs, '\n'), 0o600)
}

// sensitiveVarFile writes the sensitive variables for one command and
// returns the var file option and a function that removes the file. With
// no sensitive variables there is no file and no option.
func (w *Workspace) sensitiveVarFile() ([]string, func(), error) {
	if len(w.opt.SensitiveVars) == 0 {
		return nil, func() {}, nil
	}
	path := filepath.Join(w.opt.WorkDir, sensitiveVarsFile)
	if err := writeJSONFile(path, w.opt.SensitiveVars); err != nil {
		return nil, func() {}, fmt.Errorf("sensitive variables: %w", err)
	}
	return []string{path}, func() { _ = os.Remove(path) }, nil
}

// environment is the inherited environment (base, or this process's when
// nil) without the variables terraform-exec manages (it refuses them),
// plus extra. Update checks are off unless the caller turned them on.
func environment(base []string, extra map[string]string) map[string]string {
	if base == nil {
		base = os.Environ()
	}
	env := map[string]string{}
	for _, kv := range base {
		if k, v, ok := strings.Cut(kv, "="); ok && k != "" {
			env[k] = v
		}
	}
	env = tfexec.CleanEnv(env)
	if _, set := env["CHECKPOINT_DISABLE"]; !set {
		env["CHECKPOINT_DISABLE"] = "1"
	}
	for k, v := range extra {
		env[k] = v
	}
	return env
}
