package terraform

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/cloudify-chaos/chaosops/plugin/failure"
	"github.com/hashicorp/go-version"
	"github.com/hashicorp/terraform-exec/tfexec"

	"github.com/cloudify-chaos/chaosops/plugin/progress"
)

// stateReadTimeout bounds reading the state after a failed or cancelled
// command, so partial results are reported without holding up the exit.
const stateReadTimeout = 3 * time.Second

// Workspace is one module in its working directory, ready for terraform
// commands. Its methods run one command at a time.
type Workspace struct {
	opt     Options
	log     *slog.Logger
	tf      *tfexec.Terraform
	version *version.Version
	// stderrSeen holds the stderr lines logged so far.
	stderrSeen map[string]bool
}

// Open validates opt, checks the terraform binary and its version, and
// prepares the working directory: the module files are replaced by those
// of opt.Module, the variables and backend files are written, and
// variables the module does not declare are refused. Nothing runs
// Terraform on the module yet.
func Open(ctx context.Context, opt Options, log *slog.Logger) (*Workspace, error) {
	opt, err := opt.withDefaults()
	if err != nil {
		return nil, &failure.InvalidError{Err: err}
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	bin, err := findBinary(opt.Binary, opt.MinVersion)
	if err != nil {
		return nil, err
	}
	if err := claimWorkDir(opt.WorkDir); err != nil {
		return nil, err
	}
	tf, err := tfexec.NewTerraform(opt.WorkDir, bin)
	if err != nil {
		return nil, fmt.Errorf("workdir: %w", err)
	}
	if err := tf.SetEnv(environment(opt.Environ, opt.Env)); err != nil {
		return nil, fmt.Errorf("environment: %w", err)
	}
	if err := tf.SetWaitDelay(opt.Grace); err != nil {
		return nil, fmt.Errorf("grace: %w", err)
	}
	ver, err := checkVersion(ctx, tf, opt.Binary, opt.MinVersion)
	if err != nil {
		return nil, err
	}
	w := &Workspace{opt: opt, log: log, tf: tf, version: ver, stderrSeen: map[string]bool{}}
	if err := w.prepare(); err != nil {
		return nil, err
	}
	// A working directory from an older chaosops may hold 0644 state files.
	if err := protectState(opt.WorkDir); err != nil {
		return nil, err
	}
	log.Debug(fmt.Sprintf("terraform %s at %s, working directory %s", ver, bin, opt.WorkDir))
	return w, nil
}

// prepare puts the module, variables and backend into the working
// directory.
func (w *Workspace) prepare() error {
	dir := w.opt.WorkDir
	// A sensitive var file outlives its command only when the process was
	// killed; it must not stay on disk.
	if err := os.Remove(filepath.Join(dir, sensitiveVarsFile)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("workdir: %w", err)
	}
	if w.opt.Module != "" {
		if err := replaceModule(w.opt.Module, dir); err != nil {
			return err
		}
	} else if files, _ := moduleFiles(dir); len(files) == 0 {
		return failure.Invalidf("module", "not given, and %s holds no module yet; give the module folder", dir)
	}
	if w.opt.Vars != nil {
		if err := writeJSONFile(filepath.Join(dir, VarsFile), w.opt.Vars); err != nil {
			return fmt.Errorf("variables: %w", err)
		}
	}
	if err := writeBackend(dir, w.opt.Backend); err != nil {
		return fmt.Errorf("backend: %w", err)
	}
	return checkVariables(dir, w.opt.Vars, w.opt.SensitiveVars)
}

// Dir is the working directory.
func (w *Workspace) Dir() string { return w.opt.WorkDir }

// Version is the version of the terraform binary.
func (w *Workspace) Version() string { return w.version.String() }

// OutputsDir is where WriteSecretFiles should put sensitive outputs.
func (w *Workspace) OutputsDir() string { return filepath.Join(w.opt.WorkDir, OutputsDir) }

// run runs one terraform command with stdout logged line by line (and
// read for planned changes and diagnostics) and stderr logged as warnings.
// fn gets the stdout writer and the var files to pass.
func (w *Workspace) run(ctx context.Context, command string, fn func(stdout io.Writer, varFiles []string) error) (*events, error) {
	out := newEvents(w.log, slog.LevelInfo)
	errOut := w.stderr()
	w.tf.SetStdout(out)
	w.tf.SetStderr(errOut)
	defer func() {
		w.tf.SetStdout(nil)
		w.tf.SetStderr(nil)
	}()
	files, remove, err := w.sensitiveVarFile()
	if err != nil {
		return out, err
	}
	defer remove()
	// Terraform reports its own progress; a long silence (a provider
	// waiting on a slow API, a lock) is reported here.
	stop := progress.WhenSilent(ctx, w.log, fmt.Sprintf("terraform %s in %s", command, w.opt.WorkDir), func() time.Time {
		return latest(out.lastOutput(), errOut.lastOutput())
	})
	err = fn(out, append(append([]string(nil), w.opt.VarFiles...), files...))
	stop()
	out.close()
	errOut.close()
	// Also after a failure or a cancel: the state may have been written.
	if perr := protectState(w.opt.WorkDir); perr != nil && err == nil {
		err = perr
	}
	if err != nil {
		return out, w.failure(ctx, command, err, out.diagnostics())
	}
	return out, nil
}

// latest is the later of a and b.
func latest(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// stderr logs a command's stderr lines as warnings, each one once.
func (w *Workspace) stderr() *events {
	e := newEvents(w.log, slog.LevelWarn)
	e.seen = w.stderrSeen
	return e
}

// interruptedError is a command stopped by cancellation. It wraps the
// cause, so callers see ErrCancelled (or the deadline) through errors.Is.
type interruptedError struct {
	msg   string
	cause error
	hint  string // about a lock left behind
}

func (e *interruptedError) Error() string {
	s := e.msg + " (" + e.cause.Error() + ")"
	if e.hint != "" {
		s += "; " + e.hint
	}
	return s
}
func (e *interruptedError) Unwrap() error { return e.cause }

// failure turns a failed command into an error. After a cancel it says
// whether Terraform stopped on the interrupt or had to be killed, and
// reports a state lock left behind.
func (w *Workspace) failure(ctx context.Context, command string, err error, diags []diagnostic) error {
	if ctx.Err() == nil {
		return newCommandError(command, w.opt.WorkDir, err, diags)
	}
	msg := fmt.Sprintf("terraform %s in %s stopped after an interrupt", command, w.opt.WorkDir)
	if killed(err) {
		msg = fmt.Sprintf("terraform %s in %s did not stop within %s of the interrupt and was killed", command, w.opt.WorkDir, w.opt.Grace)
	}
	hint := ""
	if lock := leftoverLocalLock(w.opt.WorkDir); lock != nil {
		hint = lock.Hint()
	} else if killed(err) {
		// A remote backend's lock: only the backend knows whether it is
		// still held.
		hint = fmt.Sprintf("it may have left the state lock of its remote backend behind: if the next run fails with \"Error acquiring the state lock\", unlock with terraform -chdir=%s force-unlock -force <the lock ID it prints>", w.opt.WorkDir)
	}
	if hint != "" {
		w.log.Warn(hint)
	}
	return &interruptedError{msg: msg, cause: context.Cause(ctx), hint: hint}
}

// LockOf returns the state lock a failed command could not acquire (the
// error matches ErrStateLocked), or nil.
func LockOf(err error) *LockInfo {
	var ce *CommandError
	if errors.As(err, &ce) && ce.Lock != nil {
		return ce.Lock
	}
	return nil
}

// readState summarises the state (terraform show -json). Its output holds
// sensitive values, so it is never streamed to the log.
func (w *Workspace) readState(ctx context.Context) (*StateSummary, map[string]Secret, error) {
	errOut := w.stderr()
	w.tf.SetStdout(nil)
	w.tf.SetStderr(errOut)
	defer w.tf.SetStderr(nil)
	st, err := w.tf.Show(ctx)
	errOut.close()
	if err != nil {
		return nil, nil, w.failure(ctx, "show", err, nil)
	}
	sum, secrets := summarizeState(st)
	return sum, secrets, nil
}

// finish completes a result with the state after a command; after a
// failure or cancel it reads the state on its own short deadline, so the
// caller still learns what exists, and returns the command's error.
func (w *Workspace) finish(ctx context.Context, res *Result, cmdErr error) (*Result, error) {
	readCtx := ctx
	if cmdErr != nil {
		var cancel context.CancelFunc
		readCtx, cancel = context.WithTimeout(context.WithoutCancel(ctx), stateReadTimeout)
		defer cancel()
	}
	sum, secrets, err := w.readState(readCtx)
	if err == nil {
		res.State, res.Sensitive = sum, secrets
	} else if cmdErr == nil {
		return res, err
	} else {
		w.log.Warn("could not read the state after the failure: " + err.Error())
	}
	if cmdErr != nil {
		res.Lock = w.lockFrom(cmdErr)
	}
	return res, cmdErr
}

// lockFrom finds the lock an error or the working directory reports.
func (w *Workspace) lockFrom(err error) *LockInfo {
	if l := LockOf(err); l != nil {
		return l
	}
	var ie *interruptedError
	if errors.As(err, &ie) {
		return leftoverLocalLock(w.opt.WorkDir)
	}
	return nil
}
