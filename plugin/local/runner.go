// Package local is the local runner: it installs, executes workflows on and
// uninstalls our blueprints on one machine, with no Cloudify manager. Every
// operation runs the real executable through the script runner, the
// same path a manager's script plugin uses, so local mode tests the real
// thing. State lives in a state directory, written atomically.
package local

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"path/filepath"
	"sync"
	"time"

	"github.com/cloudify-chaos/chaosops/plugin/blueprint"
	"github.com/cloudify-chaos/chaosops/plugin/launcher"
	"github.com/cloudify-chaos/chaosops/plugin/redact"
)

// Runner runs local deployments.
type Runner struct {
	Store   Store
	Secrets *Secrets
	// Executable is the chaosops executable that serves operations whose
	// implementation is the bundled chaosops (or its launcher).
	Executable string
	// Events receives one line per event-log entry.
	Events io.Writer
	// Parallel bounds how many nodes of one level run at once (default 4).
	Parallel int
	// Env is the environment operations start with (default os.Environ()).
	Env []string
	// RetryInterval caps the wait before a retried operation (default: as
	// the operation asks, at most 30 s).
	MaxRetryWait time.Duration

	mu sync.Mutex // guards deployments' mutable parts, live and Events
	// live holds the deployments executions of this runner are working on,
	// so that concurrent executions of one deployment (PauseChaos during a
	// RunHTTPChaos) share one state instead of overwriting each other's.
	live     map[string]*liveDeployment
	redactor redact.Redactor
}

// InstallOptions name what to install.
type InstallOptions struct {
	Blueprint string         // main YAML file, or a folder holding blueprint.yaml
	Name      string         // deployment name
	Inputs    map[string]any // deployment inputs (strings are coerced to the declared type)
	Labels    map[string][]string
}

func (r *Runner) init() error {
	if r.Secrets == nil {
		r.Secrets = &Secrets{File: filepath.Join(r.Store.Dir, "secrets.yaml")}
	}
	if err := r.Secrets.Load(); err != nil {
		return err
	}
	r.redactor.Add(r.Secrets.Values()...)
	if r.Parallel <= 0 {
		r.Parallel = 4
	}
	if r.MaxRetryWait == 0 {
		r.MaxRetryWait = 30 * time.Second
	}
	if r.Events == nil {
		r.Events = io.Discard
	}
	return nil
}

// event writes one line to the event stream, secrets masked.
func (r *Runner) event(d *Deployment, ex *Execution, who, level, msg string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	line := fmt.Sprintf("%s %s %s %s %s: %s\n", time.Now().UTC().Format("15:04:05.000"), d.Name, ex.Workflow, who, level, msg)
	_, _ = io.WriteString(r.Events, r.redactor.String(line))
}

type liveDeployment struct {
	d     *Deployment
	users int
}

// acquire returns the deployment name, shared with the executions of this
// runner already working on it; release when done.
func (r *Runner) acquire(name string) (*Deployment, func(), error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.live == nil {
		r.live = map[string]*liveDeployment{}
	}
	l := r.live[name]
	if l == nil {
		d, err := r.Store.Load(name)
		if err != nil {
			return nil, nil, err
		}
		l = &liveDeployment{d: d}
		r.live[name] = l
	}
	l.users++
	return l.d, func() {
		r.mu.Lock()
		defer r.mu.Unlock()
		if l.users--; l.users == 0 {
			delete(r.live, name)
		}
	}, nil
}

// save writes the deployment under the lock, secrets masked.
func (r *Runner) save(d *Deployment) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.saveLocked(d)
}

func (r *Runner) saveLocked(d *Deployment) error {
	masked := *d
	masked.Instances = map[string]*NodeInstance{}
	for k, inst := range d.Instances {
		c := *inst
		c.RuntimeProperties, _ = r.redactor.Value(inst.RuntimeProperties).(map[string]any)
		masked.Instances[k] = &c
	}
	masked.Inputs, _ = r.redactor.Value(d.Inputs).(map[string]any)
	masked.Outputs, _ = r.redactor.Value(d.Outputs).(map[string]any)
	masked.Capabilities, _ = r.redactor.Value(d.Capabilities).(map[string]any)
	return r.Store.Save(&masked)
}

func loadBlueprint(path string) (*blueprint.Blueprint, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	return blueprint.LoadWith(blueprint.MainFile(abs, ""), blueprint.LoadOptions{Bundled: launcher.BundledFiles})
}

func newID(prefix string) string {
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// startExecution records a new execution in the deployment.
func (r *Runner) startExecution(d *Deployment, workflow string, params map[string]any) (*Execution, error) {
	ex := &Execution{ID: newID("exec-") + newID(""), Workflow: workflow, Parameters: params, Status: "started", Started: time.Now().UTC()}
	r.mu.Lock()
	d.Executions = append(d.Executions, ex)
	err := r.saveLocked(d)
	r.mu.Unlock()
	return ex, err
}

// endExecution records the execution's end; a cancelled context marks it
// cancelled.
func (r *Runner) endExecution(ctx context.Context, d *Deployment, ex *Execution, err error) error {
	r.mu.Lock()
	ex.Ended = time.Now().UTC()
	switch {
	case err == nil:
		ex.Status = "terminated"
	case ctx.Err() != nil:
		ex.Status, ex.Error = "cancelled", r.redactor.String(err.Error())
	default:
		ex.Status, ex.Error = "failed", r.redactor.String(err.Error())
	}
	serr := r.saveLocked(d)
	r.mu.Unlock()
	if err != nil {
		r.event(d, ex, "-", "ERROR", fmt.Sprintf("execution %s %s: %v", ex.ID, ex.Status, err))
		return r.redactor.Error(err)
	}
	r.event(d, ex, "-", "INFO", fmt.Sprintf("execution %s terminated in %s", ex.ID, ex.Ended.Sub(ex.Started).Round(time.Millisecond)))
	return serr
}
