package wfctx

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
)

// Node is a node of the stand-in deployment.
type Node struct {
	Operations []string `json:"operations"`
	Instances  []string `json:"instances"`
}

// Call is one task the script added to its graph: an operation or an event.
type Call struct {
	Operation           string         `json:"operation,omitempty"`
	Event               string         `json:"event,omitempty"`
	Instance            string         `json:"instance"`
	Kwargs              map[string]any `json:"kwargs,omitempty"`
	AllowKwargsOverride bool           `json:"allow_kwargs_override,omitempty"`
}

// ErrNoPython is returned when python3 is not on PATH.
var ErrNoPython = errors.New("wfctx: python3 is not on PATH")

// Run evaluates script with the execution's parameters on a deployment of
// nodes, in dir (a scratch folder). It returns the tasks the script's graph
// ran, or the script's exception as an error.
func Run(dir, script string, parameters map[string]any, nodes map[string]Node) ([]Call, error) {
	py, err := exec.LookPath("python3")
	if err != nil {
		return nil, ErrNoPython
	}
	world, err := json.Marshal(map[string]any{"parameters": parameters, "nodes": nodes})
	if err != nil {
		return nil, err
	}
	worldFile, outFile := filepath.Join(dir, "world.json"), filepath.Join(dir, "out.json")
	if err := os.WriteFile(worldFile, world, 0o600); err != nil {
		return nil, err
	}
	_, self, _, _ := runtime.Caller(0)
	lib := filepath.Join(filepath.Dir(self), "python")
	cmd := exec.Command(py, filepath.Join(lib, "run_workflow.py"), script)
	cmd.Env = append(os.Environ(), "PYTHONPATH="+lib, "WFCTX_WORLD="+worldFile, "WFCTX_OUT="+outFile, "PYTHONDONTWRITEBYTECODE=1")
	if b, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("wfctx: python3 %s: %v\n%s", script, err, b)
	}
	b, err := os.ReadFile(outFile)
	if err != nil {
		return nil, err
	}
	var out struct {
		Calls []Call `json:"calls"`
		Error string `json:"error"`
	}
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, err
	}
	if out.Error != "" {
		return nil, errors.New(out.Error)
	}
	return out.Calls, nil
}
