package commands

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"

	"github.com/urfave/cli/v2"

	"github.com/cloudify-chaos/chaosops/plugin/logline"
	"github.com/cloudify-chaos/chaosops/plugin/redact"
	"github.com/cloudify-chaos/chaosops/plugin/terraform"
)

func tfCommand() *cli.Command {
	verb := func(name, usage string, run func(*terraform.Workspace, context.Context) (*terraform.Result, error)) *cli.Command {
		return &cli.Command{
			Name:        name,
			Usage:       usage,
			Description: tfSteps[name],
			Flags:       tfFlags(),
			Action:      func(c *cli.Context) error { return runTF(c, name, run) },
		}
	}
	return &cli.Command{
		Name:  "tf",
		Usage: "run Terraform on a module in a working directory that keeps its state, as the terraform.* operations do",
		Description: "Each command copies the module (--dir) into --workdir, keeping .terraform/, the state and outputs/ there,\n" +
			"runs terraform init first when the module, backend or terraform changed, and prints progress on stderr.\n" +
			"Sensitive outputs are written to <workdir>/outputs/<name> (mode 0600) and never printed; sensitive\n" +
			"variables come from TF_VAR_<name> in the environment (--sensitive-var NAME), never from the command line.\n" +
			"Ctrl-C interrupts terraform, which stops cleanly; it is killed only after --grace.",
		Subcommands: []*cli.Command{
			verb("init", "prepare the working directory: backend, providers, modules", func(w *terraform.Workspace, ctx context.Context) (*terraform.Result, error) {
				return &terraform.Result{}, w.Init(ctx)
			}),
			verb("plan", "print the changes an apply would make, per resource address", (*terraform.Workspace).Plan),
			verb("apply", "apply the module (-input=false) and print the resources and outputs as JSON", (*terraform.Workspace).Apply),
			verb("output", "print the state's resources and outputs as JSON", (*terraform.Workspace).Output),
			verb("refresh", "take in changes made outside Terraform and print the state as JSON", (*terraform.Workspace).Refresh),
			destroyCommand(verb),
		},
	}
}

// destroyCommand is tf destroy; with --remove-workdir it also removes the
// working directory once the state is empty, as terraform.destroy does
// unless keep_workdir is set.
func destroyCommand(verb func(string, string, func(*terraform.Workspace, context.Context) (*terraform.Result, error)) *cli.Command) *cli.Command {
	var remove bool
	cmd := verb("destroy", "destroy everything in the state and print what was destroyed as JSON; the state backup goes with it",
		func(w *terraform.Workspace, ctx context.Context) (*terraform.Result, error) {
			res, err := w.Destroy(ctx)
			if err != nil || !remove {
				return res, err
			}
			if err := w.Remove(ctx); err != nil {
				return res, err
			}
			res.Sensitive = nil // their files went with the working directory
			return res, nil
		})
	cmd.Flags = append(cmd.Flags, &cli.BoolFlag{Name: "remove-workdir", Destination: &remove,
		Usage: "after a complete destroy, remove --workdir (module copy, .terraform/, state, outputs/)"})
	return cmd
}

// tfSteps is each command's help: its steps and what Ctrl-C does.
var tfSteps = map[string]string{
	"init": "Steps: check the flags; copy --dir into --workdir; terraform init. Ctrl-C interrupts terraform (killed after\n" +
		"--grace); run it again.",
	"plan": "Steps: check the flags; copy --dir into --workdir; init when needed; terraform plan; print the changes per\n" +
		"resource address. Nothing is changed.",
	"apply": "Steps: check the flags; copy --dir into --workdir; init when needed; terraform apply -input=false; write the\n" +
		"sensitive outputs to <workdir>/outputs/ (0600); print resources and outputs as JSON. Ctrl-C interrupts terraform,\n" +
		"which stops cleanly and keeps in the state what it created (killed after --grace); run apply again to converge.",
	"output": "Steps: check the flags; copy --dir into --workdir; init when needed; read the state; print resources and\n" +
		"outputs as JSON (sensitive ones as files). Nothing is changed.",
	"refresh": "Steps: check the flags; copy --dir into --workdir; init when needed; take in changes made outside Terraform\n" +
		"into the state; print it as JSON. Ctrl-C interrupts terraform (killed after --grace).",
	"destroy": "Steps: check the flags; copy --dir into --workdir; init when needed; terraform destroy; remove the state\n" +
		"backup (it holds the destroyed outputs); with --remove-workdir remove --workdir; print what was destroyed as JSON.\n" +
		"Ctrl-C interrupts terraform, which stops cleanly (killed after --grace); run destroy again.",
}

// tfFlags are made afresh for each subcommand: urfave/cli keeps parsed
// slice values in the flag.
func tfFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "dir", Usage: "the module folder; copied into --workdir before the command (may be left out once the workdir holds it)"},
		&cli.StringFlag{Name: "workdir", Usage: "the working directory (required): module copy, .terraform/, local state, outputs/ (created 0700)"},
		&cli.StringSliceFlag{Name: "var", Usage: "Terraform variable as k=v (repeatable); [a, b] and {k: v} values are parsed as YAML"},
		&cli.StringSliceFlag{Name: "sensitive-var", Usage: "NAME of a sensitive variable whose value is in the environment variable TF_VAR_NAME (repeatable)"},
		&cli.StringSliceFlag{Name: "var-file", Usage: "a .tfvars or .tfvars.json file (repeatable)"},
		&cli.StringFlag{Name: "backend", Usage: "a backend type replacing the module's, e.g. azurerm; default the module's (local: state in --workdir)"},
		&cli.StringSliceFlag{Name: "backend-config", Usage: "k=v setting of --backend (repeatable); credentials belong in the environment (ARM_ACCESS_KEY, ...)"},
		&cli.StringFlag{Name: "terraform", Value: terraform.DefaultBinary, EnvVars: []string{"CHAOSOPS_TERRAFORM"}, Usage: "the terraform executable, a path or a name on PATH"},
		&cli.DurationFlag{Name: "grace", Value: terraform.DefaultGrace, Usage: "how long terraform may take to stop after Ctrl-C before it is killed"},
		&cli.BoolFlag{Name: "verbose", Aliases: []string{"v"}, Usage: "also print debug lines"},
	}
}

func runTF(c *cli.Context, verb string, run func(*terraform.Workspace, context.Context) (*terraform.Result, error)) error {
	if c.NArg() > 0 {
		return usagef("tf %s takes no arguments (got %q); give the module with --dir", verb, c.Args().First())
	}
	if c.String("workdir") == "" {
		return usagef("tf %s needs --workdir DIR, the working directory that keeps the state", verb)
	}
	opt, red, err := tfOptions(c)
	if err != nil {
		return err
	}
	level := slog.LevelInfo
	if c.Bool("verbose") {
		level = slog.LevelDebug
	}
	log := slog.New(red.Handler(terminalLines(c.App.ErrWriter, level)))
	w, err := terraform.Open(c.Context, opt, log)
	if err != nil {
		var be *terraform.BinaryError
		if errors.As(err, &be) {
			return fmt.Errorf("--terraform: %w", err)
		}
		return err
	}
	res, runErr := run(w, c.Context)
	if res != nil {
		if err := printTF(c.App.Writer, w, verb, res, red); err != nil && runErr == nil {
			runErr = err
		}
	}
	return red.Error(runErr)
}

// tfOptions turns the flags into workspace options; the redactor knows
// the sensitive values.
func tfOptions(c *cli.Context) (terraform.Options, *redact.Redactor, error) {
	red := &redact.Redactor{}
	opt := terraform.Options{
		Module: c.String("dir"), WorkDir: c.String("workdir"), Binary: c.String("terraform"),
		VarFiles: c.StringSlice("var-file"), Grace: c.Duration("grace"),
	}
	vars, err := parseKV(c.StringSlice("var"), "var")
	if err != nil {
		return opt, red, err
	}
	if len(vars) > 0 {
		opt.Vars = vars
	}
	for _, name := range c.StringSlice("sensitive-var") {
		v, ok := os.LookupEnv("TF_VAR_" + name)
		if !ok {
			return opt, red, usagef("--sensitive-var %s: TF_VAR_%s is not set in the environment", name, name)
		}
		if opt.SensitiveVars == nil {
			opt.SensitiveVars = map[string]any{}
		}
		opt.SensitiveVars[name] = v
		red.Add(v)
	}
	if b := c.String("backend"); b != "" {
		cfg := map[string]any{}
		for _, kv := range c.StringSlice("backend-config") {
			k, v, ok := strings.Cut(kv, "=")
			if !ok || k == "" {
				return opt, red, usagef("--backend-config %q: use key=value", kv)
			}
			cfg[k] = v
		}
		opt.Backend = &terraform.Backend{Type: b, Config: cfg}
	} else if len(c.StringSlice("backend-config")) > 0 {
		return opt, red, usagef("--backend-config needs --backend TYPE")
	}
	return opt, red, nil
}

// printTF writes the result to stdout: the plan as text, anything else as
// JSON. Sensitive outputs go to files first; only their paths are printed.
func printTF(out io.Writer, w *terraform.Workspace, verb string, res *terraform.Result, red *redact.Redactor) error {
	if verb == "plan" && res.Changes != nil {
		_, err := fmt.Fprintln(out, res.Changes.String())
		return err
	}
	doc := map[string]any{"workdir": w.Dir(), "terraform": w.Version()}
	if res.Changes != nil {
		doc["changes"] = map[string]any{"add": res.Changes.Add, "change": res.Changes.Change, "destroy": res.Changes.Destroy, "summary": res.Changes.Counts()}
	}
	if res.Lock != nil {
		doc["lock"] = res.Lock.Hint()
	}
	if res.State != nil {
		for _, s := range res.Sensitive {
			red.Add(s.Reveal())
		}
		files := map[string]string{}
		// After destroy --remove-workdir there is no folder to keep files in.
		if _, err := os.Stat(w.Dir()); err == nil {
			if files, err = terraform.WriteSecretFiles(w.OutputsDir(), res.Sensitive); err != nil {
				return err
			}
		}
		resources := []string{}
		for _, r := range res.State.Resources {
			resources = append(resources, r.Address)
		}
		doc["resources"], doc["outputs"], doc["sensitive_outputs"] = resources, res.State.Outputs, files
	}
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(out, red.String(string(b)))
	return err
}

// terminalLines prints log records as plain lines for a terminal:
// progress without timestamps, warnings and errors marked.
func terminalLines(w io.Writer, level slog.Level) slog.Handler {
	var mu sync.Mutex
	return logline.New(level, func(_ context.Context, l slog.Level, line string) error {
		switch {
		case l >= slog.LevelError:
			line = "error: " + line
		case l >= slog.LevelWarn:
			line = "warning: " + line
		}
		mu.Lock()
		defer mu.Unlock()
		_, err := io.WriteString(w, line+"\n")
		return err
	})
}
