package report

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/cloudify-chaos/chaosops/plugin/chaos"
)

// DefaultRoot is where the CLI writes run directories (one per chaos
// object, named after it) unless RootEnv names another folder.
const (
	DefaultRoot = ".chaosops/reports"
	RootEnv     = "CHAOSOPS_REPORT_ROOT"
)

// ErrNoRun means no run directory matched.
var ErrNoRun = errors.New("no such run")

// noJournal says where Find looked; it is ErrNoRun.
type noJournal struct{ dir string }

func (e *noJournal) Error() string        { return "no " + JournalFile + " in " + e.dir }
func (e *noJournal) Is(target error) bool { return target == ErrNoRun }

// Run is one run directory under a root, as List finds it.
type Run struct {
	// Name is the directory's name (the chaos object's name).
	Name    string
	Dir     string
	Verdict chaos.Verdict
	RunID   string
	Ref     string
	Started time.Time
	// Err is set when the journal could not be read; the other fields
	// but Name and Dir are then empty.
	Err error
}

// List returns the runs under root (directories holding a journal.json),
// newest first. A missing root has no runs.
func List(root string) ([]Run, error) {
	entries, err := os.ReadDir(root)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var runs []Run
	for _, e := range entries {
		dir := filepath.Join(root, e.Name())
		if !e.IsDir() || !hasJournal(dir) {
			continue
		}
		r := Run{Name: e.Name(), Dir: dir}
		j, err := Load(dir)
		if err != nil {
			r.Err = err
		} else {
			r.Verdict = j.Verdict
			if j.Run != nil {
				r.RunID, r.Ref, r.Started = j.Run.RunID, j.Run.Ref, j.Run.Started
			}
		}
		runs = append(runs, r)
	}
	sort.SliceStable(runs, func(a, b int) bool {
		if !runs[a].Started.Equal(runs[b].Started) {
			return runs[a].Started.After(runs[b].Started)
		}
		return runs[a].Name < runs[b].Name
	})
	return runs, nil
}

// Find returns the run directory that run names: a directory holding a
// journal.json (or the journal itself), else the directory root/run, else
// the one run under root whose run id or object name is run. The error
// wraps ErrNoRun when none matches.
func Find(root, run string) (string, error) {
	if run == "" {
		return "", &noJournal{dir: root}
	}
	if st, err := os.Stat(run); err == nil {
		if !st.IsDir() && filepath.Base(run) == JournalFile {
			return filepath.Dir(run), nil
		}
		if st.IsDir() && hasJournal(run) {
			return run, nil
		}
	}
	named := filepath.Join(root, run)
	if hasJournal(named) {
		return named, nil
	}
	// A path (with a separator) is never looked up by id.
	if !strings.ContainsRune(run, os.PathSeparator) {
		runs, err := List(root)
		if err != nil {
			return "", err
		}
		var found []string
		for _, r := range runs {
			if r.Err == nil && (r.RunID == run || strings.HasSuffix(r.Ref, "/"+run)) {
				found = append(found, r.Dir)
			}
		}
		switch len(found) {
		case 1:
			return found[0], nil
		case 0:
		default:
			return "", fmt.Errorf("%d runs have the id %q (%s); give the directory", len(found), run, strings.Join(found, ", "))
		}
	}
	if st, err := os.Stat(run); err == nil && st.IsDir() {
		named = run
	}
	return "", &noJournal{dir: named}
}

func hasJournal(dir string) bool {
	st, err := os.Stat(filepath.Join(dir, JournalFile))
	return err == nil && st.Mode().IsRegular()
}
