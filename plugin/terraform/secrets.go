package terraform

import (
	"fmt"
	"os"
	"path/filepath"
)

// WriteSecretFiles stores each sensitive output in dir/<name> with mode
// 0600 (dir is created 0700) and removes files of outputs that are gone.
// It returns the path of each file, for runtime properties and reports
// that must not hold the values themselves.
func WriteSecretFiles(dir string, secrets map[string]Secret) (map[string]string, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("sensitive outputs: %w", err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return nil, fmt.Errorf("sensitive outputs: %w", err)
	}
	paths := make(map[string]string, len(secrets))
	for _, name := range sortedKeys(secrets) {
		if !identifier.MatchString(name) {
			return nil, fmt.Errorf("sensitive outputs: %q is not an output name", name)
		}
		p := filepath.Join(dir, name)
		if err := writeFileAtomic(p, []byte(secrets[name].Reveal()), 0o600); err != nil {
			return nil, fmt.Errorf("sensitive outputs: %w", err)
		}
		paths[name] = p
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("sensitive outputs: %w", err)
	}
	for _, e := range entries {
		if _, current := secrets[e.Name()]; !current && e.Type().IsRegular() {
			if err := os.Remove(filepath.Join(dir, e.Name())); err != nil {
				return nil, fmt.Errorf("sensitive outputs: %w", err)
			}
		}
	}
	return paths, nil
}
