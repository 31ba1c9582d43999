package terraform

import (
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/hashicorp/go-version"
	"github.com/hashicorp/terraform-exec/tfexec"

	"github.com/cloudify-chaos/chaosops/plugin/redact"
)

// Defaults of Options.
const (
	// DefaultBinary is looked up on PATH when Options.Binary is empty.
	DefaultBinary = "terraform"
	// DefaultMinVersion is the oldest Terraform accepted: the first with
	// terraform_data, import blocks and the JSON UI this package reads.
	DefaultMinVersion = "1.5.0"
	// DefaultGrace is how long Terraform may take to stop after an
	// interrupt. It stays below the 20 s the operation runtime grants a
	// cancelled handler, so the lock check still runs.
	DefaultGrace = 15 * time.Second
)

// Options describe one module in its working directory.
type Options struct {
	// Module is the folder holding the root module (and any local
	// submodules). Its files replace the module files in WorkDir before
	// every command; .terraform/, the state and outputs/ are kept. Empty:
	// use the copy already in WorkDir.
	Module string
	// WorkDir is the working directory of one deployment: the module copy,
	// the provider cache (.terraform/), the state when the backend is
	// local, and outputs/ for sensitive outputs. It is created with mode
	// 0700; an existing non-empty folder that chaosops did not create is
	// refused, so that replacing module files cannot delete anything else.
	WorkDir string
	// Vars are non-sensitive variables; they are written to
	// chaosops.auto.tfvars.json (mode 0600) in WorkDir, so a person can run
	// terraform there by hand with the same values. Nil keeps the file of
	// the previous run, so output and destroy can run on the working
	// directory alone; an empty map removes it.
	Vars map[string]any
	// SensitiveVars never appear in logs, arguments or lasting files: they
	// reach Terraform through a var file (mode 0600, in the 0700 WorkDir)
	// that exists only while a command runs. terraform-exec forbids
	// TF_VAR_* variables and -var puts values on the command line.
	SensitiveVars map[string]any
	// VarFiles are further -var-file files (.tfvars or .tfvars.json).
	VarFiles []string
	// Environ is the environment Terraform inherits (KEY=value); nil means
	// this process's environment.
	Environ []string
	// Env is added to Terraform's environment, e.g. ARM_CLIENT_SECRET for
	// the azurerm provider and backend. Values are treated as sensitive.
	// The variables terraform-exec manages itself (TF_VAR_*, TF_LOG,
	// TF_CLI_ARGS, ...) are refused; they are also dropped from the
	// inherited environment.
	Env map[string]string
	// Backend replaces the module's backend; nil keeps the module's own
	// (Terraform's local backend when it declares none).
	Backend *Backend
	// Binary is the terraform executable: a path, or a name looked up on
	// PATH. Default DefaultBinary.
	Binary string
	// MinVersion is the oldest Terraform accepted. Default DefaultMinVersion.
	MinVersion string
	// Grace is how long Terraform may take to stop after the interrupt a
	// cancel sends before it is killed. Default DefaultGrace.
	Grace time.Duration
}

// Backend is a backend block written to chaosops_backend_override.tf.json,
// which replaces any backend the module declares.
type Backend struct {
	// Type is the backend type: local, azurerm, s3, gcs, ...
	Type string
	// Config is the block's settings, e.g. resource_group_name,
	// storage_account_name, container_name, key. Credentials are refused
	// here because the file stays on disk: give them in Options.Env
	// (ARM_ACCESS_KEY, ARM_CLIENT_SECRET, ...).
	Config map[string]any
}

var (
	identifier  = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_-]*$`)
	backendType = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
	envName     = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
)

// withDefaults returns a validated copy of o with defaults filled in. Each
// error names the field and the fix.
func (o Options) withDefaults() (Options, error) {
	if o.WorkDir == "" {
		return o, fmt.Errorf("workdir: not set; give the deployment's working directory")
	}
	abs, err := filepath.Abs(o.WorkDir)
	if err != nil {
		return o, fmt.Errorf("workdir: %w", err)
	}
	o.WorkDir = abs
	if o.Module != "" {
		if o.Module, err = filepath.Abs(o.Module); err != nil {
			return o, fmt.Errorf("module: %w", err)
		}
		if o.Module == o.WorkDir {
			return o, fmt.Errorf("module: %s is also the working directory; use a separate workdir", o.Module)
		}
	}
	if o.Binary == "" {
		o.Binary = DefaultBinary
	}
	if o.MinVersion == "" {
		o.MinVersion = DefaultMinVersion
	}
	if _, err := version.NewVersion(o.MinVersion); err != nil {
		return o, fmt.Errorf("min version: %q is not a version; use e.g. %s", o.MinVersion, DefaultMinVersion)
	}
	if o.Grace == 0 {
		o.Grace = DefaultGrace
	}
	if o.Grace < 0 {
		return o, fmt.Errorf("grace: %s is negative; use e.g. 15s", o.Grace)
	}
	for _, name := range sortedKeys(o.Vars) {
		if !identifier.MatchString(name) {
			return o, fmt.Errorf("variables: %q is not a Terraform variable name (letters, digits, _ and -, not starting with a digit)", name)
		}
	}
	for _, name := range sortedKeys(o.SensitiveVars) {
		if !identifier.MatchString(name) {
			return o, fmt.Errorf("sensitive variables: %q is not a Terraform variable name (letters, digits, _ and -, not starting with a digit)", name)
		}
		if _, dup := o.Vars[name]; dup {
			return o, fmt.Errorf("variables: %q is given both as a variable and as a sensitive variable; keep one", name)
		}
	}
	for i, f := range o.VarFiles {
		if o.VarFiles[i], err = filepath.Abs(f); err != nil {
			return o, fmt.Errorf("var files: %w", err)
		}
	}
	for _, name := range sortedKeys(o.Env) {
		if !envName.MatchString(name) {
			return o, fmt.Errorf("environment: %q is not an environment variable name", name)
		}
		if p := tfexec.ProhibitedEnv(map[string]string{name: ""}); len(p) > 0 {
			hint := "terraform-exec manages it"
			if strings.HasPrefix(name, "TF_VAR_") {
				hint = "give the value as a sensitive variable " + strings.TrimPrefix(name, "TF_VAR_")
			}
			return o, fmt.Errorf("environment: %s cannot be set here: %s", name, hint)
		}
	}
	if o.Backend != nil {
		if !backendType.MatchString(o.Backend.Type) {
			return o, fmt.Errorf("backend: type %q is not a backend type; use e.g. azurerm, s3 or local", o.Backend.Type)
		}
		for _, k := range sortedKeys(o.Backend.Config) {
			// "key" names the state object (azurerm, s3), not a credential.
			if k != "key" && (redact.SensitiveName(k) || slices.Contains([]string{"sas_token", "client_certificate_password"}, k)) {
				return o, fmt.Errorf("backend: config %s looks like a credential and would be written to disk; pass it in the environment instead (e.g. ARM_ACCESS_KEY, ARM_CLIENT_SECRET)", k)
			}
		}
	}
	return o, nil
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
