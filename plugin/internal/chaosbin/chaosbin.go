// Package chaosbin gives tests the real compiled chaosops executable:
// $CHAOSOPS_BIN when set (make test builds bin/chaosops first), otherwise a
// build of ./plugin/cmd/chaosops into a temporary folder, once per package.
package chaosbin

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

var (
	once  sync.Once
	built string
	err   error
	dir   string
)

// Path returns the executable, building it if needed.
func Path(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("CHAOSOPS_BIN"); p != "" {
		if _, statErr := os.Stat(p); statErr == nil {
			return p
		}
	}
	once.Do(func() {
		_, file, _, _ := runtime.Caller(0)
		root := filepath.Join(filepath.Dir(file), "..", "..", "..")
		dir, err = os.MkdirTemp("", "chaosops-bin-")
		if err != nil {
			return
		}
		built = filepath.Join(dir, "chaosops")
		cmd := exec.Command("go", "build", "-o", built, "./plugin/cmd/chaosops")
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, berr := cmd.CombinedOutput(); berr != nil {
			err = &buildError{out: string(out), err: berr}
		}
	})
	if err != nil {
		t.Fatalf("build chaosops: %v", err)
	}
	return built
}

type buildError struct {
	out string
	err error
}

func (e *buildError) Error() string { return e.err.Error() + "\n" + e.out }

// Version returns the version the executable reports (the word after
// "chaosops" in `chaosops version`), which make stamps.
func Version(t testing.TB) string {
	t.Helper()
	out, err := exec.Command(Path(t), "version").Output()
	if err != nil {
		t.Fatalf("chaosops version: %v", err)
	}
	f := strings.Fields(string(out))
	if len(f) < 2 {
		t.Fatalf("chaosops version printed %q", out)
	}
	return f[1]
}

// Run runs the executable with args and returns its stdout, stderr and
// exit code.
func Run(t testing.TB, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(Path(t), args...)
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run chaosops: %v", err)
	}
	return out.String(), errb.String(), code
}
