package report

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// The files of a run directory.
const (
	JournalFile  = "journal.json"
	MarkdownFile = "report.md"
	ChartFile    = "chart.svg"
)

// Files are the paths Write wrote.
type Files struct {
	Dir      string `json:"dir"`
	Journal  string `json:"journal"`
	Markdown string `json:"markdown"`
	Chart    string `json:"chart"`
}

// Write creates dir (0700) and writes the run's journal, Markdown summary
// and chart into it (0600: they quote the spec, probe URLs and errors),
// each atomically (a temporary file renamed into place), so a reader never
// sees half a file. URL credentials are removed
// from everything written; j itself is not modified. The journal is
// written last: a directory with a journal.json has the other files too.
func Write(dir string, j *Journal) (Files, error) {
	if j == nil {
		return Files{}, errors.New("report: no journal to write")
	}
	if dir == "" {
		return Files{}, errors.New("report: no directory; give the run's report directory")
	}
	clean := sanitized(j)
	data, err := json.MarshalIndent(clean, "", "  ")
	if err != nil {
		return Files{}, fmt.Errorf("report: encode the journal: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return Files{}, fmt.Errorf("report: %w", err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return Files{}, fmt.Errorf("report: %w", err)
	}
	f := Files{
		Dir:      dir,
		Journal:  filepath.Join(dir, JournalFile),
		Markdown: filepath.Join(dir, MarkdownFile),
		Chart:    filepath.Join(dir, ChartFile),
	}
	for _, w := range []struct {
		path string
		data []byte
	}{
		{f.Markdown, []byte(Markdown(clean))},
		{f.Chart, Chart(clean)},
		{f.Journal, append(data, '\n')},
	} {
		if err := writeAtomic(w.path, w.data); err != nil {
			return Files{}, fmt.Errorf("report: %w", err)
		}
	}
	return f, nil
}

// writeAtomic writes data to a temporary file (0600) beside path, syncs it
// and renames it over path.
func writeAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	// Removing after a successful rename fails harmlessly.
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return os.Rename(tmp.Name(), path)
}

// Load reads dir/journal.json.
func Load(dir string) (*Journal, error) {
	path := filepath.Join(dir, JournalFile)
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var j Journal
	if err := json.Unmarshal(data, &j); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if j.Version > JournalVersion {
		return nil, fmt.Errorf("%s: journal version %d is newer than this chaosops reads (%d); use a newer chaosops", path, j.Version, JournalVersion)
	}
	return &j, nil
}
