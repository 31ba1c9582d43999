package readyfile

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

func TestWrite(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "x.ready")
	for _, tc := range []struct {
		name  string
		extra []string
		want  string
	}{
		{"only the pid", nil, fmt.Sprintf("pid %d\n", os.Getpid())},
		{"extra lines follow, and a rewrite replaces the file", []string{"listen 127.0.0.1:1", "admin http://x"}, fmt.Sprintf("pid %d\nlisten 127.0.0.1:1\nadmin http://x\n", os.Getpid())},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := Write(path, tc.extra...); err != nil {
				t.Fatal(err)
			}
			got, err := os.ReadFile(path)
			if err != nil || string(got) != tc.want {
				t.Errorf("file %q (%v), want %q", got, err, tc.want)
			}
			if left, _ := filepath.Glob(filepath.Join(dir, ".ready-*")); len(left) != 0 {
				t.Errorf("temporary files left: %v", left)
			}
		})
	}
	if err := Write(filepath.Join(dir, "no", "such", "x.ready")); err == nil {
		t.Error("a missing folder should fail")
	}
}
