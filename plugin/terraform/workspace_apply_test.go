package terraform

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

var errTestCancel = errors.New("test cancelled the operation")

// waitForLog waits until the log holds s.
func waitForLog(t *testing.T, logs *logRecorder, s string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !logs.contains(s) {
		if time.Now().After(deadline) {
			t.Fatalf("the log did not show %q within %s", s, within)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

type applyOutcome struct {
	res *Result
	err error
}

func TestApplyCancel(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	log, logs := newLogger(t)
	opt := Options{Module: fixture("slow"), WorkDir: dir, Vars: map[string]any{"seconds": 30}, Binary: terraformBinary(t)}
	w, err := Open(ctx, opt, log)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("a cancel during a slow local-exec interrupts terraform, which stops at once and records the resource as tainted", func(t *testing.T) {
		runCtx, cancel := context.WithCancelCause(ctx)
		defer cancel(nil)
		done := make(chan applyOutcome, 1)
		go func() {
			res, err := w.Apply(runCtx)
			done <- applyOutcome{res, err}
		}()
		waitForLog(t, logs, "(local-exec): started", time.Minute)
		start := time.Now()
		cancel(errTestCancel)
		var out applyOutcome
		select {
		case out = <-done:
		case <-time.After(DefaultGrace + 10*time.Second):
			t.Fatal("apply did not return after the cancel")
		}
		t.Logf("cancel to return: %s", time.Since(start).Round(time.Millisecond))
		if time.Since(start) > 5*time.Second {
			t.Errorf("terraform took %s to stop after the interrupt", time.Since(start))
		}
		if !errors.Is(out.err, errTestCancel) {
			t.Fatalf("error %v does not carry the cancel cause", out.err)
		}
		if !strings.Contains(out.err.Error(), "stopped after an interrupt") {
			t.Errorf("error %q does not say terraform was interrupted", out.err)
		}
		if out.res == nil || out.res.State == nil {
			t.Fatalf("no state read after the cancel: %+v", out.res)
		}
		rs := out.res.State.Resources
		if len(rs) != 1 || rs[0].Address != "terraform_data.slow" || !rs[0].Tainted {
			t.Errorf("state after the cancel: %+v; want terraform_data.slow tainted", rs)
		}
		if out.res.Lock != nil {
			t.Errorf("an interrupted terraform left a lock: %s", out.res.Lock.Hint())
		}
		if _, err := os.Stat(filepath.Join(dir, localLockFile)); err == nil {
			t.Errorf("the lock info file is still there")
		}
	})

	t.Run("the next apply replaces the tainted resource and converges", func(t *testing.T) {
		quick := opt
		quick.Vars = map[string]any{"seconds": 0}
		w2, err := Open(ctx, quick, log)
		if err != nil {
			t.Fatal(err)
		}
		res, err := w2.Apply(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(res.Changes.Lines(), ","); got != "-/+ terraform_data.slow" {
			t.Errorf("changes %q; want the tainted resource replaced", got)
		}
		if rs := res.State.Resources; len(rs) != 1 || rs[0].Tainted {
			t.Errorf("state: %+v", rs)
		}
	})
}

func TestStateLockedByAnotherRun(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	log, logs := newLogger(t)
	opt := Options{Module: fixture("slow"), WorkDir: dir, Vars: map[string]any{"seconds": 30}, Binary: terraformBinary(t)}
	holder, err := Open(ctx, opt, log)
	if err != nil {
		t.Fatal(err)
	}
	holdCtx, release := context.WithCancelCause(ctx)
	done := make(chan applyOutcome, 1)
	go func() {
		res, err := holder.Apply(holdCtx)
		done <- applyOutcome{res, err}
	}()
	defer func() {
		release(errTestCancel)
		<-done
	}()
	waitForLog(t, logs, "(local-exec): started", time.Minute)

	other, err := Open(ctx, opt, log)
	if err != nil {
		t.Fatal(err)
	}
	_, err = other.Plan(ctx)
	if !errors.Is(err, ErrStateLocked) {
		t.Fatalf("plan while another apply runs: %v; want ErrStateLocked", err)
	}
	t.Logf("plan while another apply runs: %v", err)
	lock := LockOf(err)
	if lock == nil || lock.ID == "" || !strings.Contains(lock.Operation, "Apply") {
		t.Fatalf("lock info %+v", lock)
	}
	for _, want := range []string{"another terraform run in " + dir + " holds the state lock", "lock ID " + lock.ID, "wait for it to finish"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}

// fakeTerraform writes a stand-in for terraform whose apply ignores the
// interrupt (it only records it), leaves a local lock info file behind and
// runs until it is killed.
func fakeTerraform(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	script := `#!/bin/sh
case "$1" in
version) echo '{"terraform_version":"1.11.4","platform":"linux_amd64","provider_selections":{},"terraform_outdated":false}' ;;
init) echo "fake init" ;;
show) echo '{"format_version":"1.0"}' ;;
apply)
	echo '{"ID":"fake-lock-id","Operation":"OperationTypeApply","Who":"test@host","Created":"2026-01-01T00:00:00Z","Path":"terraform.tfstate"}' > .terraform.tfstate.lock.info
	trap 'echo interrupted > interrupted' INT
	sleep 60 </dev/null >/dev/null 2>&1 &
	echo $! > sleep.pid
	echo '{"@level":"info","@message":"fake apply running","type":"log"}'
	while kill -0 $! 2>/dev/null; do wait $!; done
	;;
esac
`
	p := filepath.Join(dir, "terraform")
	if err := os.WriteFile(p, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestApplyKilledAfterGrace(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a stand-in terraform for several seconds")
	}
	dir := t.TempDir()
	t.Cleanup(func() {
		// The stand-in's child outlives the kill; end it.
		if b, err := os.ReadFile(filepath.Join(dir, "sleep.pid")); err == nil {
			if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
		}
	})
	log, logs := newLogger(t)
	grace := 1500 * time.Millisecond
	w, err := Open(t.Context(), Options{Module: fixture("slow"), WorkDir: dir, Binary: fakeTerraform(t), Grace: grace}, log)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancelCause(t.Context())
	defer cancel(nil)
	done := make(chan applyOutcome, 1)
	go func() {
		res, err := w.Apply(ctx)
		done <- applyOutcome{res, err}
	}()
	waitForLog(t, logs, "fake apply running", 30*time.Second)
	start := time.Now()
	cancel(errTestCancel)
	out := <-done
	elapsed := time.Since(start)
	t.Logf("cancel to return with a terraform that ignores the interrupt: %s (grace %s)", elapsed.Round(time.Millisecond), grace)

	t.Run("terraform gets the interrupt first and is killed only after the grace", func(t *testing.T) {
		if _, err := os.Stat(filepath.Join(dir, "interrupted")); err != nil {
			t.Errorf("terraform never received the interrupt: %v", err)
		}
		if elapsed < grace || elapsed > grace+5*time.Second {
			t.Errorf("returned %s after the cancel; want just over the grace of %s", elapsed, grace)
		}
		if !errors.Is(out.err, errTestCancel) || !strings.Contains(out.err.Error(), "did not stop within 1.5s of the interrupt and was killed") {
			t.Errorf("error %v", out.err)
		}
	})
	t.Run("the lock it left behind is reported with how to remove it", func(t *testing.T) {
		want := "if no terraform runs in " + dir + ", delete " + filepath.Join(dir, localLockFile)
		if !strings.Contains(out.err.Error(), want) {
			t.Errorf("error %q lacks %q", out.err, want)
		}
		if out.res == nil || out.res.Lock == nil || out.res.Lock.ID != "fake-lock-id" {
			t.Errorf("result lock: %+v", out.res)
		}
		if !logs.contains("lock ID fake-lock-id") {
			t.Errorf("the lock was not reported in the log")
		}
	})
}
