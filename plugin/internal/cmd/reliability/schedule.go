package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cloudify-chaos/chaosops/plugin/internal/cmd/reliability/trial"
)

// A trial is independent of every other one: each makes its own namespaces
// on the shared control plane (testenv.Namespace), its own deployment labels
// and temporary folders, and the one that restarts an API server starts a
// control plane of its own (ownControlPlane). Most of a trial's time is spent
// waiting for holds, durations and backoff with the CPU idle, so the harness
// runs each trial test in a process of its own, many at once, and the fuzz
// targets (CPU-bound) alongside them.

// job is one trial test run by its package's compiled test binary.
type job struct {
	pkg, name string
	bin       string // the package's test binary
	report    string // the job's own $CHAOSOPS_RELIABILITY_REPORT
	took      time.Duration
	err       error
	output    bytes.Buffer
}

// timing is how long the trial processes took, to show the parallelism.
type timing struct {
	wall, sum time.Duration
	jobs      int
	slowest   *job
}

// runTrialJobs compiles each trial package's test binary once, one package
// after another, and starts that package's trials as soon as its binary is
// there, at most o.jobs at a time. Each trial writes its own report file
// under dir.
func runTrialJobs(ctx context.Context, o options, trials []target, dir string, stderr io.Writer) ([]*job, timing, []string) {
	start := time.Now()
	env := append(os.Environ(), trial.EnvMode+"=long", trial.EnvSeed+"="+strconv.FormatUint(o.seed, 10))
	var (
		mu       sync.Mutex
		failures []string
		jobs     []*job
		wg       sync.WaitGroup
	)
	slots := make(chan struct{}, max(1, o.jobs))
	// The package with the most trials first: its trials start while the
	// others compile.
	trials = slices.Clone(trials)
	slices.SortStableFunc(trials, func(a, b target) int { return len(b.names) - len(a.names) })
	logf := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(stderr, "reliability: %5.0fs "+format+"\n", append([]any{time.Since(start).Seconds()}, args...)...)
	}
	for i, s := range trials {
		bin := filepath.Join(dir, fmt.Sprintf("%02d-%s.test", i, filepath.Base(strings.TrimSuffix(s.pkg, "/"))))
		logf("go test -c %s (%s)", s.pkg, strings.Join(s.names, ", "))
		// Niced: the packages compiled after the first build while trials run.
		if out, err := goTestNiced(ctx, "-c", "-o", bin, s.pkg); err != nil {
			mu.Lock()
			failures = append(failures, fmt.Sprintf("go test -c %s failed: %v\n%s", s.pkg, err, out))
			mu.Unlock()
			continue
		}
		for _, name := range s.names {
			j := &job{pkg: s.pkg, name: name, bin: bin, report: filepath.Join(dir, fmt.Sprintf("%02d-%s.jsonl", i, name))}
			jobs = append(jobs, j)
			wg.Add(1)
			go func() {
				defer wg.Done()
				select {
				case slots <- struct{}{}:
				case <-ctx.Done():
					j.err = ctx.Err()
					return
				}
				defer func() { <-slots }()
				logf("start %s %s", s.pkg, name)
				j.run(ctx, o, env)
				status := "ok"
				if j.err != nil {
					status = "FAILED: " + j.err.Error()
				}
				logf("%s %s %s in %s", status, s.pkg, name, j.took.Round(100*time.Millisecond))
				if j.err != nil && ctx.Err() == nil {
					mu.Lock()
					failures = append(failures, fmt.Sprintf("%s %s failed: %v\n%s", s.pkg, name, j.err, lastLines(j.output.String(), 60)))
					mu.Unlock()
				}
			}()
		}
	}
	wg.Wait()
	tm := timing{wall: time.Since(start), jobs: len(jobs)}
	for _, j := range jobs {
		tm.sum += j.took
		if tm.slowest == nil || j.took > tm.slowest.took {
			tm.slowest = j
		}
	}
	return jobs, tm, failures
}

// run runs the job's test in its package folder, as go test does.
func (j *job) run(ctx context.Context, o options, env []string) {
	start := time.Now()
	defer func() { j.took = time.Since(start) }()
	pkgDir, err := filepath.Abs(j.pkg)
	if err != nil {
		j.err = err
		return
	}
	cmd := exec.CommandContext(ctx, j.bin, "-test.run", "^"+j.name+"$", "-test.count", "1", "-test.timeout", "90m",
		"-test.parallel", strconv.Itoa(max(1, o.parallel)))
	cmd.Dir = pkgDir
	cmd.Env = append(env, trial.EnvReport+"="+j.report)
	cmd.Stdout, cmd.Stderr = &j.output, &j.output
	// Let a trial clean up (namespaces, its own control plane) on Ctrl-C.
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = time.Minute
	j.err = cmd.Run()
}

// fuzzLanes runs the fuzz targets, lanes at a time. Beside the trials they
// run niced (see goTest): fuzzing only needs throughput and takes the CPU
// the waiting trials leave idle, while a trial that needs the CPU gets it.
func fuzzLanes(ctx context.Context, o options, targets []struct{ pkg, target string }, lanes int, stderr io.Writer) ([]fuzzResult, []string) {
	results := make([]fuzzResult, len(targets))
	fails := make([][]string, len(targets))
	next := make(chan int, len(targets))
	for i := range targets {
		next <- i
	}
	close(next)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range max(1, lanes) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if ctx.Err() != nil {
					return
				}
				mu.Lock()
				fmt.Fprintf(stderr, "reliability: go test -fuzz %s -fuzztime %s %s\n", targets[i].target, o.fuzzTime, targets[i].pkg)
				mu.Unlock()
				results[i], fails[i] = fuzzOne(ctx, o, targets[i].pkg, targets[i].target)
			}
		}()
	}
	wg.Wait()
	var out []fuzzResult
	var failures []string
	for i, r := range results {
		if r.target != "" { // not skipped by a cancel
			out = append(out, r)
		}
		failures = append(failures, fails[i]...)
	}
	return out, failures
}
