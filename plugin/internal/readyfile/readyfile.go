// Package readyfile writes the ready files of our stand-in processes, which
// scripts (testenv.sh, demo.sh) and tests poll for: "pid N", then extra
// lines such as "listen ADDR".
package readyfile

import (
	"fmt"
	"os"
	"path/filepath"
)

// Write writes the ready file at path atomically (a temporary file in the
// same folder, renamed), so that a poller never sees it half-written.
func Write(path string, extra ...string) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".ready-*")
	if err != nil {
		return err
	}
	fmt.Fprintf(tmp, "pid %d\n", os.Getpid())
	for _, line := range extra {
		fmt.Fprintln(tmp, line)
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return os.Rename(tmp.Name(), path)
}
