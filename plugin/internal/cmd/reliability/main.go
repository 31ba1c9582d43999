// Command reliability is the harness of make reliability: it runs the long
// reliability trials (every test below plugin/ named TestTrial…, with
// CHAOSOPS_RELIABILITY=long: 50 cancels at random moments, API server
// restarts, API faults, bad inputs, secret canaries, RBAC) and every fuzz
// target (Fuzz…) for a while, then prints a table of the figures (trials,
// outcomes, objects left, secrets found) and writes it into
// docs/reliability.md between its figure markers.
//
//	go run ./plugin/internal/cmd/reliability [-fuzztime 60s] [-seed N] [-out docs/reliability.md]
//	go run ./plugin/internal/cmd/reliability -fuzz-only -fuzztime 10s   # the quick fuzz step of make test
//
// The tests need a control plane (scripts/testenv.sh) and the executable
// ($CHAOSOPS_BIN, which make builds first). The exit code is 1 when a test
// failed, an object was left or a secret was found.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/cloudify-chaos/chaosops/plugin/internal/cmd/reliability/trial"
)

// Markers around the generated part of the output file.
const (
	beginMarker = "<!-- figures:begin (written by make reliability) -->"
	endMarker   = "<!-- figures:end -->"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "reliability:", err)
		os.Exit(1)
	}
}

type options struct {
	fuzzTime time.Duration
	fuzzOnly bool
	fuzzJobs int // fuzz targets at a time (one while trials run)
	jobs     int // trial processes at a time
	parallel int // -test.parallel of each trial process
	seed     uint64
	out      string
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("reliability", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	fs.DurationVar(&o.fuzzTime, "fuzztime", time.Minute, "how long to run each fuzz target")
	fs.BoolVar(&o.fuzzOnly, "fuzz-only", false, "only run the fuzz targets (the quick step of make test)")
	fs.IntVar(&o.fuzzJobs, "fuzz-jobs", 0, "fuzz targets at a time (default 2, alongside the trials and niced; 1 with -fuzz-only)")
	fs.IntVar(&o.jobs, "jobs", 3, "trial tests run at once, each in its own process (they mostly wait)")
	// More than 2 chaos runs at once per trial queue up on the shared
	// Chaos Mesh controller and on the demo pods (the stand-in daemon
	// serialises a container's calls): the 50 cancels would mostly land
	// before injection, and on a loaded machine injections time out.
	fs.IntVar(&o.parallel, "parallel", 2, "-test.parallel of each trial process: parallel subtests at once (the 50 cancels)")
	fs.Uint64Var(&o.seed, "seed", 0, "seed of the random moments (default: from the clock); printed to replay a run")
	fs.StringVar(&o.out, "out", "", "Markdown file whose figure block is replaced with the results (e.g. docs/reliability.md)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if o.seed == 0 {
		o.seed = uint64(time.Now().UnixNano())
	}
	if o.fuzzJobs <= 0 {
		o.fuzzJobs = 2
		if o.fuzzOnly {
			o.fuzzJobs = 1
		}
	}
	start := time.Now()
	// Run from the module root, as make reliability does.
	trials, fuzzTargets, err := discover(".", "plugin")
	if err != nil {
		return err
	}
	var (
		failures, fuzzFailures []string
		outcomes               []trial.Outcome
		tm                     timing
		fuzz                   []fuzzResult
	)
	if o.fuzzOnly {
		fuzz, fuzzFailures = fuzzLanes(ctx, o, each(fuzzTargets), o.fuzzJobs, stderr)
	} else {
		if os.Getenv("CHAOSOPS_BIN") == "" {
			return errors.New("CHAOSOPS_BIN is not set; run it with make reliability, which builds bin/chaosops first")
		}
		// The fuzz targets run alongside the trials, niced.
		fuzzDone := make(chan struct{})
		go func() {
			defer close(fuzzDone)
			fuzz, fuzzFailures = fuzzLanes(ctx, o, each(fuzzTargets), o.fuzzJobs, stderr)
		}()
		outcomes, tm, failures, err = runTrials(ctx, o, trials, stderr)
		<-fuzzDone
		if err != nil {
			return err
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if tm.slowest != nil {
			fmt.Fprintf(stderr, "reliability: %d trial processes took %s together in %s of wall time (%.1f× parallel); the longest, %s, %s\n",
				tm.jobs, tm.sum.Round(time.Second), tm.wall.Round(time.Second), tm.sum.Seconds()/max(tm.wall.Seconds(), 1e-9),
				tm.slowest.name, tm.slowest.took.Round(time.Second))
		}
	}
	failures = append(failures, fuzzFailures...)
	if o.fuzzOnly {
		for _, f := range fuzz {
			fmt.Fprintf(stdout, "%-45s %9d execs  %s\n", f.pkg+" "+f.target, f.execs, f.result)
		}
	} else {
		table := render(summarize(outcomes), fuzz)
		fmt.Fprint(stdout, table)
		if o.out != "" {
			if err := writeFigures(o.out, header(o, start, tm)+table); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "figures written to %s\n", o.out)
		}
	}
	if len(failures) > 0 {
		return fmt.Errorf("%d problem(s):\n  %s", len(failures), strings.Join(failures, "\n  "))
	}
	return nil
}

// runTrials runs each trial test in a process of its own, o.jobs at a
// time (see runTrialJobs), and reads back what the tests recorded.
func runTrials(ctx context.Context, o options, trials []target, stderr io.Writer) ([]trial.Outcome, timing, []string, error) {
	dir, err := os.MkdirTemp("", "chaosops-reliability-")
	if err != nil {
		return nil, timing{}, nil, err
	}
	defer os.RemoveAll(dir)
	jobs, tm, failures := runTrialJobs(ctx, o, trials, dir, stderr)
	if ctx.Err() != nil {
		return nil, tm, nil, ctx.Err()
	}
	var out []trial.Outcome
	for _, j := range jobs {
		data, err := os.ReadFile(j.report)
		if errors.Is(err, os.ErrNotExist) {
			continue // a trial that records nothing (it failed before, or has no figures)
		}
		if err != nil {
			return nil, tm, nil, err
		}
		sc := bufio.NewScanner(bytes.NewReader(data))
		for sc.Scan() {
			var t trial.Outcome
			if err := json.Unmarshal(sc.Bytes(), &t); err != nil {
				return nil, tm, nil, fmt.Errorf("%s: %w", j.report, err)
			}
			out = append(out, t)
			if t.Failed || t.ObjectsLeft > 0 || t.SecretsFound > 0 {
				failures = append(failures, fmt.Sprintf("%s: %s (failed %v, objects left %d, secrets found %d)", t.Kind, t.Outcome, t.Failed, t.ObjectsLeft, t.SecretsFound))
			}
		}
		if err := sc.Err(); err != nil {
			return nil, tm, nil, err
		}
	}
	return out, tm, failures, nil
}

// fuzzResult is one fuzz target's run.
type fuzzResult struct {
	pkg, target string
	execs       int64
	result      string
}

var execsRE = regexp.MustCompile(`execs: (\d+)`)

// fuzzOne runs one fuzz target for o.fuzzTime with one worker (the machine
// is shared) and reports executions and any failure, which go test saves
// under testdata/fuzz/<target> for the fix.
func fuzzOne(ctx context.Context, o options, pkg, target string) (fuzzResult, []string) {
	output, err := goTestNiced(ctx, "-run", "^$", "-fuzz", "^"+target+"$", "-fuzztime", o.fuzzTime.String(),
		// Minimizing each new input (60 s by default) would otherwise
		// take most of the run: bound it by executions.
		"-fuzzminimizetime", "100x", "-parallel", "1", pkg)
	r := fuzzResult{pkg: pkg, target: target, result: "no failure"}
	if m := execsRE.FindAllStringSubmatch(output, -1); m != nil {
		r.execs, _ = strconv.ParseInt(m[len(m)-1][1], 10, 64)
	}
	if err != nil && endedAtDeadline(output) {
		// The toolchain's own race (below): the deterministic replay of
		// the corpus, new inputs included, decides.
		replay, rerr := goTest(ctx, "-run", "^"+target+"$", pkg)
		if rerr == nil {
			r.result = "no failure (ended by Go's fuzztime deadline race, golang/go#75804; corpus replay passed)"
			return r, nil
		}
		output += "\ncorpus replay:\n" + replay
	}
	if err != nil {
		r.result = "FAILED: " + lastLines(output, 6)
		return r, []string{fmt.Sprintf("fuzz %s %s:\n%s", pkg, target, output)}
	}
	return r, nil
}

// each lists the tests of targets one by one.
func each(targets []target) []struct{ pkg, target string } {
	var out []struct{ pkg, target string }
	for _, t := range targets {
		for _, n := range t.names {
			out = append(out, struct{ pkg, target string }{t.pkg, n})
		}
	}
	return out
}

// goTest runs go test with args and returns its combined output.
func goTest(ctx context.Context, args ...string) (string, error) {
	return runGo(exec.CommandContext(ctx, "go", append([]string{"test"}, args...)...))
}

// goTestNiced is goTest at a lower CPU priority (nice 10, inherited by the
// fuzz workers), when nice(1) is there.
func goTestNiced(ctx context.Context, args ...string) (string, error) {
	nice, err := exec.LookPath("nice")
	if err != nil {
		return goTest(ctx, args...)
	}
	return runGo(exec.CommandContext(ctx, nice, append([]string{"-n", "10", "go", "test"}, args...)...))
}

func runGo(cmd *exec.Cmd) (string, error) {
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	err := cmd.Run()
	return buf.String(), err
}

// endedAtDeadline reports a fuzz run whose only failure is Go's coordinator
// race at the end of -fuzztime (golang/go#75804, fixed in Go 1.27): the
// target is reported failed with a bare "context deadline exceeded" and no
// input written. A real finding always writes its input, and a panic or a
// t.Error prints more than that line.
func endedAtDeadline(output string) bool {
	if strings.Contains(output, "Failing input written to") || strings.Contains(output, "panic:") {
		return false
	}
	lines := strings.Split(output, "\n")
	for i, l := range lines {
		if !strings.HasPrefix(l, "--- FAIL: Fuzz") {
			continue
		}
		var body []string
		for _, b := range lines[i+1:] {
			if !strings.HasPrefix(b, "    ") {
				break
			}
			body = append(body, strings.TrimSpace(b))
		}
		return len(body) == 1 && body[0] == "context deadline exceeded"
	}
	return false
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " / ")
}

// row is one kind of trial in the table.
type row struct {
	kind                      string
	trials, failed            int
	outcomes                  map[string]int
	objectsLeft, secretsFound int
	seconds                   float64
}

func summarize(outcomes []trial.Outcome) []*row {
	byKind := map[string]*row{}
	var order []string
	for _, o := range outcomes {
		r := byKind[o.Kind]
		if r == nil {
			r = &row{kind: o.Kind, outcomes: map[string]int{}}
			byKind[o.Kind] = r
			order = append(order, o.Kind)
		}
		r.trials++
		r.outcomes[o.Outcome]++
		r.objectsLeft += o.ObjectsLeft
		r.secretsFound += o.SecretsFound
		r.seconds += o.Seconds
		if o.Failed {
			r.failed++
		}
	}
	sort.Strings(order)
	rows := make([]*row, 0, len(order))
	for _, k := range order {
		rows = append(rows, byKind[k])
	}
	return rows
}

// render prints the Markdown tables.
func render(rows []*row, fuzz []fuzzResult) string {
	var b strings.Builder
	b.WriteString("| trial | trials | failed | outcomes | objects left | secrets found | mean time |\n|---|---:|---:|---|---:|---:|---:|\n")
	for _, r := range rows {
		var outs []string
		for o, n := range r.outcomes {
			outs = append(outs, fmt.Sprintf("%s ×%d", o, n))
		}
		sort.Strings(outs)
		mean := "-"
		if r.seconds > 0 {
			mean = fmt.Sprintf("%.1fs", r.seconds/float64(r.trials))
		}
		fmt.Fprintf(&b, "| %s | %d | %d | %s | %d | %d | %s |\n", r.kind, r.trials, r.failed, strings.Join(outs, "; "), r.objectsLeft, r.secretsFound, mean)
	}
	if len(fuzz) > 0 {
		b.WriteString("\n| fuzz target | package | executions | result |\n|---|---|---:|---|\n")
		for _, f := range fuzz {
			fmt.Fprintf(&b, "| %s | %s | %d | %s |\n", f.target, strings.Trim(f.pkg, "./"), f.execs, f.result)
		}
	}
	return b.String()
}

func header(o options, start time.Time, tm timing) string {
	host, _ := os.Hostname()
	load := "unknown"
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		if f := strings.Fields(string(b)); len(f) >= 3 {
			load = strings.Join(f[:3], " ")
		}
	}
	return fmt.Sprintf("Run %s (%s) on %s, %d CPUs, load average %s at the end, %s; seed %d; fuzz time %s per target, %d at a time alongside the trials (niced).\n"+
		"Trials: %d processes, %d at a time (each with -test.parallel %d), took %s together in %s of wall time.\n"+
		"Command: `make reliability` (replay the random moments with `go run ./plugin/internal/cmd/reliability -seed %d`).\n\n",
		start.UTC().Format("2006-01-02 15:04 MST"), time.Since(start).Round(time.Second), host, runtime.NumCPU(), load, runtime.Version(), o.seed, o.fuzzTime, max(1, o.fuzzJobs),
		tm.jobs, o.jobs, o.parallel, tm.sum.Round(time.Second), tm.wall.Round(time.Second), o.seed)
}

// writeFigures replaces the block between the markers of path with text,
// keeping the hand-written rest; a file without markers gets the block
// appended.
func writeFigures(path, text string) error {
	old, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	block := beginMarker + "\n" + text + endMarker
	s := string(old)
	i, j := strings.Index(s, beginMarker), strings.Index(s, endMarker)
	switch {
	case i >= 0 && j > i:
		s = s[:i] + block + s[j+len(endMarker):]
	default:
		s += "\n" + block + "\n"
	}
	return os.WriteFile(path, []byte(s), 0o644)
}
