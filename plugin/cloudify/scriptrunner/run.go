package scriptrunner

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/cloudify-chaos/chaosops/plugin/cloudify"
)

// CancelMode is how a cancelled operation ends, per spec section 5.
type CancelMode int

const (
	// Orphan is what a manager really does: the process is not signalled, its
	// proxy disappears and its output loses its reader.
	Orphan CancelMode = iota
	// Signal sends SIGTERM (then SIGKILL after Grace), as a manual kill or a
	// future cancel path would.
	Signal
)

// Spec says how to launch one operation, as script_runner does (spec 1.2).
type Spec struct {
	Executable string         // the downloaded implementation file
	Args       []string       // process.args, joined by one space, unquoted
	Inputs     map[string]any // operation inputs, exported per spec 1.3
	Env        []string       // the worker's environment (default: os.Environ())
	Dir        string         // process.cwd
	Cancel     CancelMode
	Grace      time.Duration // SIGTERM → SIGKILL, 5 s in Cloudify's kill path
	// OnLine, if set, receives each event-log line as it is produced.
	OnLine func(LogLine)
}

// Outcome is how Cloudify would classify the finished operation (spec 1.2.6).
type Outcome string

// Outcomes of an operation.
const (
	Success     Outcome = "success"
	Retry       Outcome = "retry"                    // retry_operation was called
	Abort       Outcome = "abort"                    // abort_operation: non-recoverable
	Recoverable Outcome = "recoverable"              // bare non-zero exit: Cloudify retries blindly
	Conflict    Outcome = "non_recoverable_conflict" // two of returns/abort/retry
	Cancelled   Outcome = "cancelled"
)

// Result is what the stand-in observed.
type Result struct {
	Outcome    Outcome
	Returned   any
	Message    string // abort or retry message
	RetryAfter int    // seconds asked for by retry_operation
	ExitCode   int
	Signaled   bool
	Stdout     string
	Stderr     string
	Logs       []LogLine // ctx logger lines and captured <out>/<err> lines, in order
	Calls      [][]any
	Duration   time.Duration
	// FirstCall is the time from starting the process to its first ctx
	// request: launcher, process start-up and the first call's round trip.
	FirstCall time.Duration
}

// Run launches the executable as script_runner would, with p serving its
// ctx calls, and waits for it. Cancelling ctx applies spec.Cancel.
func (p *Proxy) Run(ctx context.Context, spec Spec) (*Result, error) {
	env := spec.Env
	if env == nil {
		env = os.Environ()
	}
	env = append([]string(nil), env...)
	if os.Getenv("TMPDIR") == "" {
		env = append(env, "TMPDIR="+os.TempDir())
	}
	names := make([]string, 0, len(spec.Inputs))
	for k := range spec.Inputs {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		switch k {
		case "ctx", "script_path", "script_source", "process", "ssl_cert_content":
			continue // never exported (spec 1.3)
		}
		v, err := cloudify.EncodeInput(spec.Inputs[k])
		if err != nil {
			return nil, fmt.Errorf("input %s: %w", k, err)
		}
		env = append(env, k+"="+v)
	}
	env = append(env, cloudify.SocketEnv+"="+p.URL())

	cmdline := spec.Executable
	if len(spec.Args) > 0 {
		cmdline += " " + strings.Join(spec.Args, " ")
	}
	cmd := exec.Command("/bin/sh", "-c", cmdline)
	cmd.Env = env
	cmd.Dir = spec.Dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	p.onLine = spec.OnLine
	p.mu.Unlock()
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", spec.Executable, err)
	}
	var outBuf, errBuf strings.Builder
	var wg sync.WaitGroup
	var outMu sync.Mutex
	capture := func(r io.Reader, prefix string, buf *strings.Builder) {
		defer wg.Done()
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 64<<10), 4<<20)
		for sc.Scan() {
			line := strings.ToValidUTF8(sc.Text(), "\uFFFD")
			outMu.Lock()
			buf.WriteString(line + "\n")
			outMu.Unlock()
			l := LogLine{Level: "info", Message: "<" + prefix + "> " + line, Stream: prefix} // spec 1.2.5
			p.addLog(l)
			if spec.OnLine != nil {
				spec.OnLine(l)
			}
		}
	}
	wg.Add(2)
	go capture(stdout, "out", &outBuf)
	go capture(stderr, "err", &errBuf)

	done := make(chan error, 1)
	go func() {
		wg.Wait() // read all output before Wait closes the pipes
		done <- cmd.Wait()
	}()

	cancelled := false
	var waitErr error
	select {
	case waitErr = <-done:
	case <-ctx.Done():
		cancelled = true
		waitErr = p.cancel(cmd, spec, stdout, stderr, done)
	}
	p.Close()

	res := &Result{Duration: time.Since(start), Stdout: outBuf.String(), Stderr: errBuf.String()}
	p.mu.Lock()
	res.Logs = append([]LogLine(nil), p.logs...)
	res.Calls = append([][]any(nil), p.calls...)
	res.Returned = p.returned
	if !p.firstCall.IsZero() {
		res.FirstCall = p.firstCall.Sub(start)
	}
	outcomes := append([]string(nil), p.outcomes...)
	abortMsg, retryMsg, retryIn := p.abortMsg, p.retryMsg, p.retryIn
	p.mu.Unlock()

	var exitErr *exec.ExitError
	if errors.As(waitErr, &exitErr) {
		res.ExitCode = exitErr.ExitCode()
		if ws, ok := exitErr.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			res.Signaled = true
			res.ExitCode = -int(ws.Signal())
		}
	} else if waitErr != nil {
		return res, waitErr
	}
	switch {
	case cancelled:
		res.Outcome = Cancelled
	case len(outcomes) > 1:
		res.Outcome = Conflict
	case len(outcomes) == 1 && outcomes[0] == "abort":
		res.Outcome, res.Message = Abort, abortMsg
	case len(outcomes) == 1 && outcomes[0] == "retry":
		res.Outcome, res.Message, res.RetryAfter = Retry, retryMsg, retryIn
	case res.ExitCode == 0:
		res.Outcome = Success
	default:
		res.Outcome = Recoverable
		res.Message = fmt.Sprintf("command %q exited %d", cmdline, res.ExitCode)
	}
	return res, nil
}

// cancel ends a running operation the way spec section 5 describes.
func (p *Proxy) cancel(cmd *exec.Cmd, spec Spec, stdout, stderr io.ReadCloser, done chan error) error {
	grace := spec.Grace
	if grace == 0 {
		grace = 5 * time.Second
	}
	pgid := -cmd.Process.Pid
	switch spec.Cancel {
	case Signal:
		// Signal the operation's process, not the /bin/sh that script_runner
		// wraps it in, so the exit status observed is the executable's own.
		targets := children(cmd.Process.Pid)
		if len(targets) == 0 {
			targets = []int{cmd.Process.Pid}
		}
		for _, pid := range targets {
			_ = syscall.Kill(pid, syscall.SIGTERM)
		}
	default:
		// Orphan: the proxy vanishes and nobody reads the output any more.
		p.Close()
		_ = stdout.Close()
		_ = stderr.Close()
		grace = 2 * time.Minute // an orphan must end by itself; this only bounds the test
	}
	select {
	case err := <-done:
		return err
	case <-time.After(grace):
		_ = syscall.Kill(pgid, syscall.SIGKILL)
		return <-done
	}
}

// children lists the direct children of pid (Linux /proc).
func children(pid int) []int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", pid, pid))
	if err != nil {
		return nil
	}
	var out []int
	for _, f := range strings.Fields(string(b)) {
		var n int
		if _, err := fmt.Sscan(f, &n); err == nil {
			out = append(out, n)
		}
	}
	return out
}
