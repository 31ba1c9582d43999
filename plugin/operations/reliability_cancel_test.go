package operations_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cloudify-chaos/chaosops/plugin/chaos"
	"github.com/cloudify-chaos/chaosops/plugin/chaos/api"
	"github.com/cloudify-chaos/chaosops/plugin/cloudify/scriptrunner"
	"github.com/cloudify-chaos/chaosops/plugin/internal/cmd/reliability/trial"
	"github.com/cloudify-chaos/chaosops/plugin/internal/testenv"
)

// phaseOf names the step a run had reached from the last lifecycle line of
// its event log, to report when a signal arrived.
func phaseOf(line string) string {
	for _, p := range []struct{ marker, phase string }{
		{"verdict ", "after the verdict"},
		{": deleted", "after deletion"},
		{"all targets recovered", "while deleting"},
		{"duration over", "during recovery"},
		{"targets injected after", "during the hold"},
		{"created (duration", "before injection"},
		{"preflight passed", "before creation"},
	} {
		if strings.Contains(line, p.marker) {
			return p.phase
		}
	}
	return ""
}

// phaseWatch follows a run's event log and says which phase it is in.
type phaseWatch struct {
	mu    sync.Mutex
	phase string
	lines map[string]chan struct{}
}

func newPhaseWatch(waitFor ...string) *phaseWatch {
	w := &phaseWatch{phase: "before creation", lines: map[string]chan struct{}{}}
	for _, s := range waitFor {
		w.lines[s] = make(chan struct{})
	}
	return w
}

func (w *phaseWatch) onLine(l scriptrunner.LogLine) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if p := phaseOf(l.Message); p != "" {
		w.phase = p
	}
	for s, ch := range w.lines {
		if strings.Contains(l.Message, s) {
			close(ch)
			delete(w.lines, s)
		}
	}
}

func (w *phaseWatch) now() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.phase
}

// TestTrialCancelAtRandomMoments sends SIGTERM to chaos runs at random moments
// (before creation, before injection, during the hold, during recovery)
// and checks that each one reports cancelled or its final verdict, never
// asks for a retry, exits by itself within the cleanup bound, and leaves no
// chaos object behind. make reliability runs 50 of them.
func TestTrialCancelAtRandomMoments(t *testing.T) {
	cfg := testenv.Config(t)
	ns, dyn := chaosNamespace(t, cfg, 2)
	kubeconfig := adminKubeconfig(t)
	rng := trial.Rand(t)
	n := trial.Count(4, 50)
	const (
		duration = 4 * time.Second
		// The signal falls anywhere from start-up to a little after the
		// run's natural end (injection + duration + recovery; the real
		// controller often stops a fault late).
		window = 8 * time.Second
	)
	delays := make([]time.Duration, n)
	for i := range delays {
		delays[i] = time.Duration(rng.Int64N(int64(window)))
	}
	for i, delay := range delays {
		t.Run(fmt.Sprintf("run %d: SIGTERM after %s", i, delay.Round(time.Millisecond)), func(t *testing.T) {
			t.Parallel()
			start := time.Now()
			dep := fmt.Sprintf("rel-cancel-%d", i)
			watch := newPhaseWatch()
			ctx, cancel := context.WithCancel(t.Context())
			var signalledIn string
			var signalled time.Time
			timer := time.AfterFunc(delay, func() {
				signalledIn, signalled = watch.now(), time.Now()
				cancel()
			})
			defer timer.Stop()
			res, state := opRun{
				Op: "chaos_actions.run", Deployment: dep, Instance: fmt.Sprintf("chaos_%d", i), Cancel: scriptrunner.Signal, OnLine: watch.onLine,
				Inputs: map[string]any{"kubeconfig": kubeconfig, "namespace": ns, "manifest": httpChaosManifest(ns, duration)},
			}.run(t, ctx)
			timer.Stop()
			outcome := cancelOutcome(t, res, state, signalledIn)
			if !signalled.IsZero() && res.Outcome == scriptrunner.Cancelled {
				// The runtime waits for a cancelled run's cleanup up to its
				// delete_timeout (default 1m) and a margin.
				if took := time.Since(signalled); took > chaos.DefaultDeleteTimeout+30*time.Second {
					t.Errorf("the run took %s to stop after SIGTERM", took)
				}
			}
			left := deploymentObjects(t, dyn, ns, dep)
			if left != 0 {
				t.Errorf("%d chaos objects of %s left after the run ended\n%s", left, dep, chaosLogs(res))
			}
			trial.Record(t, trial.Outcome{Kind: "cancel: SIGTERM at a random moment", Outcome: outcome, ObjectsLeft: left, Seconds: time.Since(start).Seconds()})
		})
	}
}

// cancelOutcome checks how a signalled run ended and names the outcome:
// "cancelled <phase>" or the final verdict when the run finished first.
func cancelOutcome(t *testing.T, res *scriptrunner.Result, state *scriptrunner.State, signalledIn string) string {
	t.Helper()
	if r := called(res, "retry_operation"); len(r) > 0 {
		t.Errorf("a cancelled run asked for a retry: %q", r)
	}
	if res.Signaled {
		t.Errorf("the process was killed (exit %d) instead of exiting after its cleanup\n%s", res.ExitCode, chaosLogs(res))
	}
	verdict, _ := state.Instance.RuntimeProperties["chaos_verdict"].(string)
	aborts := called(res, "abort_operation")
	switch {
	case res.Outcome == scriptrunner.Cancelled && len(aborts) == 1 && strings.Contains(aborts[0], "operation cancelled"):
		if res.ExitCode != 143 {
			t.Errorf("a cancelled run exited %d, want 143", res.ExitCode)
		}
		if verdict != "" && verdict != string(chaos.VerdictCancelled) {
			t.Errorf("a cancelled run recorded verdict %q", verdict)
		}
		return "cancelled " + signalledIn
	case res.Outcome == scriptrunner.Success && verdict == string(chaos.VerdictPass):
		return "pass (finished before the signal)"
	case res.Outcome == scriptrunner.Cancelled && verdict == string(chaos.VerdictPass) && len(aborts) == 0:
		return "pass (signal during exit)"
	case res.Outcome == scriptrunner.Cancelled && len(res.Calls) == 0 && res.ExitCode == 143:
		// The signal came while the Go runtime was still initialising
		// packages (~80 ms), before main installs the handler: the default
		// action ended the process before it did anything at all.
		return "ended during start-up, before any ctx call"
	}
	t.Errorf("outcome %s, verdict %q, abort %q, exit %d: want cancelled or a final verdict\n%s", res.Outcome, verdict, aborts, res.ExitCode, chaosLogs(res))
	return "unclear: " + string(res.Outcome)
}

// TestTrialKilledRunEndsByDurationAndReapRemovesIt SIGKILLs a run while its
// fault is injected: nothing can clean up, so the cluster ends the fault by
// spec.duration, and chaos_actions.reap removes the object left behind.
//
// The runs are independent (a namespace and demo app each), so they run in
// parallel: each mostly waits for its fault's duration.
func TestTrialKilledRunEndsByDurationAndReapRemovesIt(t *testing.T) {
	cfg := testenv.Config(t)
	kubeconfig := adminKubeconfig(t)
	n := trial.Count(1, 5)
	for i := range n {
		t.Run(fmt.Sprintf("run %d", i), func(t *testing.T) {
			t.Parallel()
			start := time.Now()
			ns, dyn := chaosNamespace(t, cfg, 1)
			dep := fmt.Sprintf("rel-kill-%d", i)
			const duration = 3 * time.Second
			watch := newPhaseWatch("targets injected after")
			inputs := map[string]any{"kubeconfig": kubeconfig, "namespace": ns, "manifest": httpChaosManifest(ns, duration)}
			res, _ := opRun{Op: "chaos_actions.run", Deployment: dep, OnLine: watch.onLine, Inputs: inputs,
				OnStart: killWhen(t, watch.lines["targets injected after"])}.run(t, t.Context())
			if !res.Signaled {
				t.Fatalf("the run was not killed (outcome %s, exit %d)\n%s", res.Outcome, res.ExitCode, chaosLogs(res))
			}
			objs, err := chaosObjects(t.Context(), dyn, ns, chaos.LabelDeployment+"="+dep)
			if err != nil {
				t.Fatal(err)
			}
			if len(objs) != 1 {
				t.Fatalf("%d chaos objects after SIGKILL, want the one left behind", len(objs))
			}
			name := objs[0].GetName()
			// The controller ends the fault once spec.duration is over,
			// counted from creation.
			ended := false
			for deadline := objs[0].GetCreationTimestamp().Add(duration + 20*time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
				o, err := chaosObjects(t.Context(), dyn, ns, chaos.LabelDeployment+"="+dep)
				if err != nil {
					t.Fatal(err)
				}
				if len(o) == 1 {
					if st, _ := api.ConditionOf(&o[0], api.ConditionAllRecovered); st == "True" {
						ended = true
						break
					}
				}
			}
			if !ended {
				t.Fatalf("HTTPChaos/%s/%s was not recovered within its duration %s + 20s", ns, name, duration)
			}
			reap, state := opRun{Op: "chaos_actions.reap", Deployment: dep, Inputs: map[string]any{"kubeconfig": kubeconfig, "namespace": ns}}.run(t, t.Context())
			if reap.Outcome != scriptrunner.Success {
				t.Fatalf("reap: outcome %s: %s\n%s", reap.Outcome, reap.Message, chaosLogs(reap))
			}
			if got := toJSON(state.Instance.RuntimeProperties["chaos_reaped"]); !strings.Contains(got, name) {
				t.Errorf("chaos_reaped = %s, want it to name %s", got, name)
			}
			left := deploymentObjects(t, dyn, ns, dep)
			if left != 0 {
				t.Errorf("%d chaos objects left after reap", left)
			}
			trial.Record(t, trial.Outcome{Kind: "cancel: SIGKILL while injected, then reap", Outcome: "ended by spec.duration, reaped", ObjectsLeft: left, Seconds: time.Since(start).Seconds()})
		})
	}
}
