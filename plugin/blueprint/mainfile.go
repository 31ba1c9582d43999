package blueprint

import (
	"os"
	"path/filepath"
)

// MainFile returns path itself when it is a file, or the main file name
// inside it when it is a folder (as cfy blueprint upload -n does).
func MainFile(path, name string) string {
	if name == "" {
		name = "blueprint.yaml"
	}
	if info, err := os.Stat(path); err == nil && info.IsDir() {
		return filepath.Join(path, name)
	}
	return path
}
