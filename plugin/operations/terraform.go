package operations

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/cloudify-chaos/chaosops/plugin/cloudify"
	"github.com/cloudify-chaos/chaosops/plugin/cloudify/operation"
	"github.com/cloudify-chaos/chaosops/plugin/terraform"
)

// terraformTimeout bounds every terraform operation; creating a managed
// Kubernetes cluster takes 10 to 20 minutes.
const terraformTimeout = time.Hour

// defaultModuleFiles are the files of a blueprint's module fetched when
// the input module_files is not given.
var defaultModuleFiles = []string{"main.tf", "variables.tf", "outputs.tf", "versions.tf"}

// terraformInputs are the inputs every terraform operation reads.
var terraformInputs = []operation.Input{
	{Name: "module", Description: "the module: a folder of the blueprint (e.g. terraform/aks), fetched file by file with download-resource, or an absolute path on the manager; may be left out once the workdir holds the module"},
	{Name: "module_files", Default: strings.Join(defaultModuleFiles, ","), Description: "the module's files to fetch from the blueprint, relative to module (subfolders allowed); missing ones other than main.tf are skipped"},
	{Name: "variables", Description: "dict of Terraform variables; written to chaosops.auto.tfvars.json in the workdir"},
	{Name: "sensitive_variables", Sensitive: true, Description: "dict of sensitive Terraform variables (e.g. from get_secret); never logged, stored or put on a command line"},
	{Name: "environment", Sensitive: true, Description: "dict of environment variables for terraform, e.g. ARM_CLIENT_SECRET from get_secret for azurerm; never logged or stored"},
	{Name: "backend", Description: "dict {type, config}: a backend replacing the module's, e.g. {type: azurerm, config: {resource_group_name, storage_account_name, container_name, key}}; default: the module's (local: the state stays in the workdir); credentials go into environment"},
	{Name: "terraform_binary", Default: terraform.DefaultBinary, Description: "the terraform executable, a path or a name on PATH; Terraform >= " + terraform.DefaultMinVersion},
	{Name: "workdir", Default: "$CHAOSOPS_WORKDIR/<deployment>/<node>, CHAOSOPS_WORKDIR defaulting to ~/.chaosops/work", Description: "the deployment's working directory: module copy, providers, local state, outputs/ with the sensitive outputs (mode 0600)"},
}

// TerraformInit is terraform.init: prepare the working directory and run
// terraform init.
func TerraformInit() operation.Handler {
	return terraformHandler("init",
		"Copy the module into the deployment's working directory and run terraform init (backend, providers).",
		func(ctx context.Context, _ *operation.Op, w *terraform.Workspace) (*terraform.Result, error) {
			return &terraform.Result{}, w.Init(ctx)
		})
}

// TerraformPlan is terraform.plan: store what an apply would change in
// runtime property terraform.plan.
func TerraformPlan() operation.Handler {
	return terraformHandler("plan",
		"Run terraform plan; store the changes per resource address in runtime property terraform.plan.",
		func(ctx context.Context, _ *operation.Op, w *terraform.Workspace) (*terraform.Result, error) {
			return w.Plan(ctx)
		})
}

// TerraformApply is terraform.apply: apply the module and store the state
// summary and outputs.
func TerraformApply() operation.Handler {
	return terraformHandler("apply",
		"Run terraform apply -input=false with progress in the event log; store resources and outputs in runtime property terraform (sensitive outputs as 0600 files).",
		func(ctx context.Context, _ *operation.Op, w *terraform.Workspace) (*terraform.Result, error) {
			return w.Apply(ctx)
		})
}

// TerraformOutput is terraform.output: read the outputs into runtime
// properties again.
func TerraformOutput() operation.Handler {
	return terraformHandler("output",
		"Read the state's outputs and resources into runtime property terraform (sensitive outputs as 0600 files).",
		func(ctx context.Context, _ *operation.Op, w *terraform.Workspace) (*terraform.Result, error) {
			return w.Output(ctx)
		})
}

// TerraformRefresh is terraform.refresh: take in changes made outside
// Terraform.
func TerraformRefresh() operation.Handler {
	return terraformHandler("refresh",
		"Run terraform refresh (no resource changes) and store the state summary and outputs.",
		func(ctx context.Context, _ *operation.Op, w *terraform.Workspace) (*terraform.Result, error) {
			return w.Refresh(ctx)
		})
}

// TerraformDestroy is terraform.destroy: destroy everything the state
// holds, then remove the working directory unless keep_workdir is set.
func TerraformDestroy() operation.Handler {
	h := terraformHandler("destroy",
		"Run terraform destroy; then remove the working directory (state, providers, sensitive output files) unless keep_workdir is true.",
		destroyAndClean)
	h.Inputs = append(h.Inputs, operation.Input{Name: "keep_workdir", Default: "false", Description: "keep the working directory after a complete destroy"})
	return h
}

// terraformVerb runs one command on an opened workspace.
type terraformVerb func(context.Context, *operation.Op, *terraform.Workspace) (*terraform.Result, error)

func terraformHandler(verb, summary string, run terraformVerb) operation.Handler {
	return operation.Handler{
		Name:    "terraform." + verb,
		Summary: summary,
		Inputs:  append([]operation.Input(nil), terraformInputs...),
		Timeout: terraformTimeout,
		Run: func(ctx context.Context, op *operation.Op) error {
			return runTerraform(ctx, op, verb, run)
		},
	}
}

// destroyAndClean destroys, then removes the working directory once the
// state is empty, unless keep_workdir is set.
func destroyAndClean(ctx context.Context, op *operation.Op, w *terraform.Workspace) (*terraform.Result, error) {
	keep, err := op.Inputs.Bool("keep_workdir", false)
	if err != nil {
		return nil, err
	}
	res, err := w.Destroy(ctx)
	if err != nil || keep {
		return res, err
	}
	if err := w.Remove(ctx); err != nil {
		return res, err
	}
	op.Log.Info("removed the working directory " + w.Dir())
	res.Sensitive = nil // their files went with the working directory
	return res, nil
}

// runTerraform reads the inputs, opens the workspace, runs the verb and
// turns its result into runtime properties.
func runTerraform(ctx context.Context, op *operation.Op, verb string, run terraformVerb) error {
	// keep_workdir (destroy's) is used after terraform ran: a wrong value
	// must refuse the run before it starts.
	if _, err := op.Inputs.Bool("keep_workdir", false); err != nil {
		return err
	}
	opt, cleanup, err := terraformOptions(ctx, op)
	defer cleanup()
	if err != nil {
		return err
	}
	// Intent first: cleanup and a later delete must find the state even if
	// this process dies.
	if err := op.SetPropNow(ctx, "terraform.workdir", opt.WorkDir); err != nil {
		return fmt.Errorf("terraform %s: record the working directory: %w", verb, err)
	}
	w, err := terraform.Open(ctx, opt, op.Log)
	if err != nil {
		var be *terraform.BinaryError
		if errors.As(err, &be) {
			return fmt.Errorf("input terraform_binary: %w", err)
		}
		return err
	}
	op.SetProp("terraform.version", w.Version())
	res, runErr := run(ctx, op, w)
	if res != nil {
		if err := recordTerraform(op, w, verb, res, runErr == nil); err != nil && runErr == nil {
			runErr = err
		}
	}
	return terraformOutcome(verb, runErr)
}

// terraformOutcome is retryOrFail with the operation named in a retry's
// reason ("terraform apply: the state is locked"): the command that failed
// may be the init an apply runs first.
func terraformOutcome(verb string, err error) error {
	err = retryOrFail(err)
	if r, ok := operation.AsRetry(err); ok {
		r.Reason = "terraform " + verb + ": " + r.Reason
	}
	return err
}

// recordTerraform stores a result: sensitive outputs as files (their
// values registered with the redactor first), everything else as runtime
// properties under "terraform".
func recordTerraform(op *operation.Op, w *terraform.Workspace, verb string, res *terraform.Result, done bool) error {
	op.SetProp("terraform.last_command", verb)
	if res.Changes != nil {
		key := "terraform.changes"
		if verb == "plan" {
			key = "terraform.plan"
		}
		op.SetProp(key, map[string]any{
			"add": strList(res.Changes.Add), "change": strList(res.Changes.Change), "destroy": strList(res.Changes.Destroy),
			"summary": res.Changes.Counts(),
		})
		if done {
			op.Log.Info(fmt.Sprintf("terraform %s: %s", verb, oneLineChanges(res.Changes)))
		} else {
			op.Log.Info(fmt.Sprintf("terraform %s did not finish; it had planned %s", verb, oneLineChanges(res.Changes)))
		}
	}
	lock := any(nil)
	if res.Lock != nil {
		lock = res.Lock.Hint()
	}
	op.SetProp("terraform.lock", lock)
	if res.State == nil {
		return nil
	}
	for _, s := range res.Sensitive {
		op.Redactor.Add(s.Reveal())
	}
	files := map[string]any{}
	if res.Sensitive != nil {
		paths, err := terraform.WriteSecretFiles(w.OutputsDir(), res.Sensitive)
		if err != nil {
			return err
		}
		for name, p := range paths {
			files[name] = p
		}
	}
	resources := []any{}
	for _, r := range res.State.Resources {
		m := map[string]any{"address": r.Address, "mode": r.Mode, "type": r.Type, "name": r.Name, "provider": r.Provider}
		if r.Tainted {
			m["tainted"] = true
		}
		resources = append(resources, m)
	}
	op.SetProp("terraform.resources", resources)
	op.SetProp("terraform.outputs", res.State.Outputs)
	op.SetProp("terraform.sensitive_outputs", files)
	op.Return(map[string]any{"outputs": res.State.Outputs, "resources": len(resources), "sensitive_outputs": strList(res.State.SensitiveOutputs)})
	return nil
}

func oneLineChanges(p *terraform.PlanSummary) string {
	if p.Empty() {
		return "no changes"
	}
	return p.Counts() + ": " + strings.Join(p.Lines(), ", ")
}

func strList(l []string) []any {
	out := make([]any, len(l))
	for i, s := range l {
		out[i] = s
	}
	return out
}

// terraformOptions turns the inputs into workspace options, fetching the
// module from the blueprint; cleanup removes the fetched copy.
func terraformOptions(ctx context.Context, op *operation.Op) (terraform.Options, func(), error) {
	noop := func() {}
	opt := terraform.Options{Binary: op.Inputs.String("terraform_binary", terraform.DefaultBinary), Environ: inheritedEnviron()}
	var err error
	if opt.Vars, err = op.Inputs.Map("variables"); err != nil {
		return opt, noop, err
	}
	if opt.SensitiveVars, err = op.Inputs.Map("sensitive_variables"); err != nil {
		return opt, noop, err
	}
	for _, v := range opt.SensitiveVars {
		op.Redactor.Add(secretText(v))
	}
	env, err := op.Inputs.Map("environment")
	if err != nil {
		return opt, noop, err
	}
	if len(env) > 0 {
		opt.Env = map[string]string{}
	}
	for k, v := range env {
		switch v.(type) {
		case map[string]any, []any:
			return opt, noop, fmt.Errorf("input environment: %s must be a string, not a %s", k, kindOf(v))
		}
		opt.Env[k] = secretText(v)
		op.Redactor.Add(opt.Env[k])
	}
	var backend struct {
		Type   string         `json:"type"`
		Config map[string]any `json:"config"`
	}
	if set, err := op.Inputs.Decode("backend", &backend); err != nil {
		return opt, noop, fmt.Errorf("%w; give {type: azurerm, config: {...}}", err)
	} else if set && (backend.Type != "" || len(backend.Config) > 0) { // {} keeps the module's backend
		if backend.Type == "" {
			return opt, noop, fmt.Errorf("input backend: type is missing; give e.g. {type: azurerm, config: {...}}")
		}
		opt.Backend = &terraform.Backend{Type: backend.Type, Config: backend.Config}
	}
	if opt.WorkDir, err = defaultWorkdir(ctx, op); err != nil {
		return opt, noop, err
	}
	module := op.Inputs.String("module", "")
	if module == "" || filepath.IsAbs(module) {
		opt.Module = module
		return opt, noop, nil
	}
	files, err := op.Inputs.List("module_files")
	if err != nil {
		return opt, noop, err
	}
	names := defaultModuleFiles
	if files != nil {
		names = nil
		for _, f := range files {
			names = append(names, fmt.Sprint(f))
		}
	}
	dir, err := fetchModule(ctx, op, module, names)
	if err != nil {
		return opt, noop, err
	}
	opt.Module = dir
	return opt, func() { _ = os.RemoveAll(dir) }, nil
}

// inheritedEnviron is this process's environment without the operation's
// inputs, which script_runner exported there (spec 1.3): Terraform, its
// providers and provisioners must not see sensitive_variables and the
// like. CTX_SOCKET_URL stays, so a local-exec script may call ctx.
func inheritedEnviron() []string {
	own := map[string]bool{operation.OperationInput: true, "chaosops_timeout": true, "keep_workdir": true}
	for _, in := range terraformInputs {
		own[in.Name] = true
	}
	var out []string
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); !own[k] {
			out = append(out, kv)
		}
	}
	return out
}

// fetchModule downloads the module's files from the blueprint (the ctx
// proxy serves one file per call) into a temporary folder.
func fetchModule(ctx context.Context, op *operation.Op, module string, files []string) (string, error) {
	module = path.Clean(strings.TrimPrefix(filepath.ToSlash(module), "./"))
	if module == ".." || strings.HasPrefix(module, "../") {
		return "", fmt.Errorf("input module: %s leaves the blueprint folder; give a folder inside it", module)
	}
	dir, err := os.MkdirTemp("", "chaosops-module-")
	if err != nil {
		return "", err
	}
	fetched := 0
	for _, f := range files {
		rel := path.Clean(filepath.ToSlash(f))
		if path.IsAbs(rel) || rel == ".." || strings.HasPrefix(rel, "../") {
			os.RemoveAll(dir)
			return "", fmt.Errorf("input module_files: %s is not a file inside the module", f)
		}
		target := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			os.RemoveAll(dir)
			return "", err
		}
		_, err := op.Ctx.DownloadResource(ctx, path.Join(module, rel), target)
		var pe *cloudify.ProxyError
		switch {
		case err == nil:
			fetched++
		case errors.As(err, &pe) && rel != "main.tf":
			op.Log.Debug(fmt.Sprintf("module file %s is not in the blueprint; skipped", path.Join(module, rel)))
		case errors.As(err, &pe):
			os.RemoveAll(dir)
			return "", fmt.Errorf("input module: %s/main.tf is not in the blueprint (%s); give the module's folder inside the blueprint, or list its files in module_files", module, pe.Message)
		default:
			os.RemoveAll(dir)
			return "", fmt.Errorf("input module: fetch %s: %w", path.Join(module, rel), err)
		}
	}
	if fetched == 0 {
		os.RemoveAll(dir)
		return "", fmt.Errorf("input module: none of %s was found in %s of the blueprint", strings.Join(files, ", "), module)
	}
	return dir, nil
}

// secretText is the text form of a sensitive value: strings as they are,
// anything else as JSON.
func secretText(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

func kindOf(v any) string {
	if _, ok := v.(map[string]any); ok {
		return "dict"
	}
	return "list"
}
