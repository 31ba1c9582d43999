package terraform

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/cloudify-chaos/chaosops/plugin/failure"
)

// Files and folders of a working directory.
const (
	// bookDir holds chaosops' own bookkeeping (mode 0700).
	bookDir = ".chaosops"
	// ownerFile marks a working directory as created by chaosops.
	ownerFile = bookDir + "/workdir"
	// initFile records what the last successful init saw.
	initFile = bookDir + "/init"
	// sensitiveVarsFile exists only while a command runs.
	sensitiveVarsFile = bookDir + "/sensitive.tfvars.json"
	// VarsFile holds the non-sensitive variables; Terraform loads it
	// by itself, also when a person runs terraform in the folder.
	VarsFile = "chaosops.auto.tfvars.json"
	// BackendFile holds the backend block of Options.Backend.
	BackendFile = "chaosops_backend_override.tf.json"
	// OutputsDir holds one file (mode 0600) per sensitive output.
	OutputsDir = "outputs"
)

// keep lists what survives when the module files of a working directory
// are replaced: Terraform's data, the state, and chaosops' own files.
var keep = map[string]bool{
	".terraform": true, ".terraform.lock.hcl": true,
	stateFile: true, stateBackupFile: true, workspacesDir: true,
	localLockFile: true, bookDir: true, OutputsDir: true,
}

// skipInModule lists what is never copied from a module folder.
func skipInModule(name string, dir bool) bool {
	if dir {
		return name == ".terraform" || name == ".git" || name == bookDir
	}
	return strings.HasPrefix(name, stateFile) || name == localLockFile
}

// claimWorkDir creates the working directory (0700), or checks that an
// existing one is ours or empty, and marks it.
func claimWorkDir(dir string) error {
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return fmt.Errorf("workdir: %w", err)
		}
	case err != nil:
		return fmt.Errorf("workdir: %w", err)
	case len(entries) > 0:
		if _, err := os.Stat(filepath.Join(dir, ownerFile)); err != nil {
			return fmt.Errorf("workdir: %s already holds files that chaosops did not put there; use a new or empty folder", dir)
		}
	}
	// The state and .terraform may hold credentials: keep others out.
	if err := os.Chmod(dir, 0o700); err != nil {
		return fmt.Errorf("workdir: %w", err)
	}
	if err := os.MkdirAll(filepath.Join(dir, bookDir), 0o700); err != nil {
		return fmt.Errorf("workdir: %w", err)
	}
	return os.WriteFile(filepath.Join(dir, ownerFile), []byte("created by chaosops; module files here are replaced on every run\n"), 0o600)
}

// replaceModule removes the module files of the last run from dir and
// copies the module there; what keep lists stays.
func replaceModule(module, dir string) error {
	st, err := os.Stat(module)
	if err != nil {
		return fmt.Errorf("module: %w", err)
	}
	if !st.IsDir() {
		return fmt.Errorf("module: %s is not a folder; give the folder holding the module's .tf files", module)
	}
	if files, _ := moduleFiles(module); len(files) == 0 {
		return fmt.Errorf("module: %s holds no .tf or .tf.json files", module)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("workdir: %w", err)
	}
	for _, e := range entries {
		if !keep[e.Name()] {
			if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
				return fmt.Errorf("workdir: remove the previous module file: %w", err)
			}
		}
	}
	return filepath.WalkDir(module, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("module: %w", err)
		}
		rel, _ := filepath.Rel(module, path)
		if rel == "." {
			return nil
		}
		if skipInModule(d.Name(), d.IsDir()) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		target := filepath.Join(dir, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		data, err := os.ReadFile(path) // follows symbolic links
		if err != nil {
			return fmt.Errorf("module: %w", err)
		}
		mode := fs.FileMode(0o644)
		if info, err := os.Stat(path); err == nil && info.Mode()&0o111 != 0 {
			mode = 0o755
		}
		return os.WriteFile(target, data, mode)
	})
}

// moduleFiles lists the .tf and .tf.json files of a module's root folder.
func moduleFiles(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		n := e.Name()
		if !e.IsDir() && (strings.HasSuffix(n, ".tf") || strings.HasSuffix(n, ".tf.json")) {
			out = append(out, filepath.Join(dir, n))
		}
	}
	sort.Strings(out)
	return out, nil
}

var variableBlock = regexp.MustCompile(`(?m)^\s*variable\s+"?([A-Za-z_][A-Za-z0-9_-]*)"?\s*\{`)

// declaredVariables lists the variables a module's root declares. ok is
// false when a file could not be read well enough to tell.
func declaredVariables(dir string) (names map[string]bool, ok bool) {
	files, err := moduleFiles(dir)
	if err != nil {
		return nil, false
	}
	names = map[string]bool{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, false
		}
		if strings.HasSuffix(f, ".tf.json") {
			var doc struct {
				Variable json.RawMessage `json:"variable"`
			}
			if json.Unmarshal(b, &doc) != nil {
				return nil, false
			}
			var m map[string]json.RawMessage
			if len(doc.Variable) > 0 && json.Unmarshal(doc.Variable, &m) != nil {
				return nil, false // the list form; let Terraform judge
			}
			for n := range m {
				names[n] = true
			}
			continue
		}
		for _, m := range variableBlock.FindAllSubmatch(b, -1) {
			names[string(m[1])] = true
		}
	}
	return names, true
}

// checkVariables refuses variables the module does not declare, a typo
// that Terraform would ignore (sensitive ones) or only warn about.
func checkVariables(dir string, given ...map[string]any) error {
	declared, ok := declaredVariables(dir)
	if !ok {
		return nil
	}
	var unknown []string
	for _, m := range given {
		for n := range m {
			if !declared[n] {
				unknown = append(unknown, n)
			}
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	sort.Strings(unknown)
	known := sortedKeys(declared)
	list := "no variables"
	if len(known) > 0 {
		list = strings.Join(known, ", ")
	}
	return failure.Invalidf("variables", "%s not declared by the module (it declares %s); check the spelling", strings.Join(unknown, ", "), list)
}

// moduleDigest fingerprints what init depends on: every file of the
// working directory, with the dependency lock file, except Terraform's
// data, the state, chaosops' bookkeeping and the variables.
func moduleDigest(dir string) (string, error) {
	h := sha256.New()
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		if rel == "." {
			return nil
		}
		top := strings.Split(filepath.ToSlash(rel), "/")[0]
		if (keep[top] && top != ".terraform.lock.hcl") || rel == VarsFile {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "%s %d\n", filepath.ToSlash(rel), len(b))
		h.Write(b)
		return nil
	})
	return hex.EncodeToString(h.Sum(nil)), err
}
