package local

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"time"

	"github.com/cloudify-chaos/chaosops/plugin/failure"
)

// Deployment is the persisted state of one local deployment.
type Deployment struct {
	Name         string                   `json:"name"`
	Blueprint    string                   `json:"blueprint"` // absolute path of the main file
	BlueprintID  string                   `json:"blueprint_id"`
	Inputs       map[string]any           `json:"inputs"`
	Labels       map[string][]string      `json:"labels,omitempty"`
	Parent       string                   `json:"parent,omitempty"` // csys-obj-parent
	Instances    map[string]*NodeInstance `json:"instances"`
	Outputs      map[string]any           `json:"outputs,omitempty"`
	Capabilities map[string]any           `json:"capabilities,omitempty"`
	Executions   []*Execution             `json:"executions"`
	Created      time.Time                `json:"created"`
	// Schedules are the execution schedules (schedule.go), by name.
	Schedules map[string]*Schedule `json:"schedules,omitempty"`
}

// NodeInstance is one instance of a node (the bundle uses one per node).
type NodeInstance struct {
	ID                string         `json:"id"`
	Node              string         `json:"node"`
	State             string         `json:"state"` // uninitialized, created, configured, started, stopped, deleted
	RuntimeProperties map[string]any `json:"runtime_properties"`
}

// Execution is one workflow run.
type Execution struct {
	ID         string         `json:"id"`
	Workflow   string         `json:"workflow"`
	Parameters map[string]any `json:"parameters,omitempty"`
	Status     string         `json:"status"` // started, terminated, failed, cancelled
	Error      string         `json:"error,omitempty"`
	Started    time.Time      `json:"started"`
	Ended      time.Time      `json:"ended,omitzero"`
}

// Store keeps deployments as JSON files under a state directory.
type Store struct {
	Dir string
}

var validName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)

// ErrNotFound is returned for a deployment that does not exist.
var ErrNotFound = errors.New("deployment not found")

func (s Store) path(name string) string {
	return filepath.Join(s.Dir, "deployments", name+".json")
}

// CheckName validates a deployment name; the error says what is allowed.
func CheckName(name string) error {
	if !validName.MatchString(name) {
		return failure.Invalidf("", "deployment name %q: use letters, digits, '.', '_' or '-' (at most 128, starting with a letter or digit)", name)
	}
	return nil
}

// Load reads a deployment.
func (s Store) Load(name string) (*Deployment, error) {
	if err := CheckName(name); err != nil {
		return nil, err
	}
	b, err := os.ReadFile(s.path(name))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("deployment %s: %w (see chaosops local list; state dir %s)", name, ErrNotFound, s.Dir)
	}
	if err != nil {
		return nil, fmt.Errorf("deployment %s: %w", name, err)
	}
	var d Deployment
	if err := json.Unmarshal(b, &d); err != nil {
		return nil, fmt.Errorf("deployment %s: state file %s is corrupt: %w", name, s.path(name), err)
	}
	return &d, nil
}

// Save writes a deployment atomically (temp file + rename), so a crash
// never leaves a half-written state file.
func (s Store) Save(d *Deployment) error {
	p := s.path(d.Name)
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return fmt.Errorf("save deployment %s: %w", d.Name, err)
	}
	b, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return fmt.Errorf("save deployment %s: %w", d.Name, err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(p), "."+d.Name+".*.tmp")
	if err != nil {
		return fmt.Errorf("save deployment %s: %w", d.Name, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("save deployment %s: %w", d.Name, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("save deployment %s: %w", d.Name, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("save deployment %s: %w", d.Name, err)
	}
	if err := os.Rename(tmp.Name(), p); err != nil {
		return fmt.Errorf("save deployment %s: %w", d.Name, err)
	}
	return nil
}

// Delete removes a deployment's state.
func (s Store) Delete(name string) error {
	if err := os.Remove(s.path(name)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("delete deployment %s: %w", name, err)
	}
	return nil
}

// List returns every deployment, by name.
func (s Store) List() ([]*Deployment, error) {
	files, err := filepath.Glob(filepath.Join(s.Dir, "deployments", "*.json"))
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	var out []*Deployment
	for _, f := range files {
		name := filepath.Base(f)
		d, err := s.Load(name[:len(name)-len(".json")])
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}
