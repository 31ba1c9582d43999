package terraform

import (
	"io"
	"log/slog"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/cloudify-chaos/chaosops/plugin/internal/tfbin"
)

// terraformBinary is the real terraform the integration tests run (see
// tfbin: skipped with -short, a missing binary fails them since CI has one).
func terraformBinary(t *testing.T) string { return tfbin.Path(t) }

// fixture is the path of a module under testdata.
func fixture(name string) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "testdata", name)
}

// logRecorder keeps every log line of a test and shows it in the test's
// output.
type logRecorder struct {
	mu    sync.Mutex
	lines []string
}

func (r *logRecorder) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lines = append(r.lines, strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func (r *logRecorder) text() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.lines, "\n")
}

// contains reports whether some line holds s.
func (r *logRecorder) contains(s string) bool { return strings.Contains(r.text(), s) }

func newLogger(t *testing.T) (*slog.Logger, *logRecorder) {
	rec := &logRecorder{}
	h := slog.NewTextHandler(io.MultiWriter(rec, t.Output()), &slog.HandlerOptions{Level: slog.LevelDebug})
	return slog.New(h), rec
}
