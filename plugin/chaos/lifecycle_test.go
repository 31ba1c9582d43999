package chaos_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cloudify-chaos/chaosops/plugin/chaos"
	"github.com/cloudify-chaos/chaosops/plugin/internal/standin/chaosdaemon"
	"github.com/cloudify-chaos/chaosops/plugin/internal/testenv"
)

func TestFailureClassification(t *testing.T) {
	cases := []struct {
		name  string
		where chaos.FailureSource
		msg   string
		want  chaos.FailureClass
	}{
		{"no daemon on the node (PodHttpChaos failedMessage)", chaos.InRecordEvent, "failed to apply for pod ns/demo-1: cannot find daemonIP on node kwok-node-0", chaos.Permanent},
		{"the pod is gone", chaos.InRecordEvent, `pods "demo-1" not found`, chaos.Permanent},
		{"the pod manager's pod not found", chaos.InRecordEvent, "pod not found", chaos.Permanent},
		{"a pod without container status", chaos.InRecordEvent, "pod ns/demo-1 has empty container status: container not found", chaos.Permanent},
		{"nothing selected", chaos.InKubeEvent, "Failed to select targets: no target has been selected", chaos.Permanent},
		{"a selector error", chaos.InKubeEvent, "Failed to select targets: could NOT use more than 1 namespace selector within namespace scoped mode", chaos.Permanent},
		{"the daemon does not answer", chaos.InRecordEvent, "failed to apply for pod ns/demo-1: rpc error: code = Unavailable desc = connection error: dial tcp 10.0.0.7:31767: connect: connection refused", chaos.Permanent},
		{"the daemon answers Unavailable for another reason", chaos.InRecordEvent, "failed to apply for pod ns/demo-1: rpc error: code = Unavailable desc = the connection is draining", chaos.Transient},
		{"the daemon answers an error", chaos.InRecordEvent, "failed to apply for pod ns/demo-1, status(500): tproxy not ready", chaos.Transient},
		{"a write conflict", chaos.InRecordEvent, `Operation cannot be fulfilled on podhttpchaos.chaos-mesh.org "demo-1": the object has been modified`, chaos.Transient},
		{"a pod not running yet", chaos.InRecordEvent, "pod not running", chaos.Transient},
		{"a record pattern in a Kubernetes Event is not a selection failure", chaos.InKubeEvent, "Failed to apply chaos: rpc error: code = DeadlineExceeded", chaos.Transient},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, why := chaos.ClassifyFailure(tc.where, tc.msg)
			if got != tc.want || (got == chaos.Permanent) != (why != "") {
				t.Errorf("ClassifyFailure(%s, %q) = %s, %q; want %s", tc.where, tc.msg, got, why, tc.want)
			}
		})
	}
	t.Run("every row cites where Chaos Mesh produces it", func(t *testing.T) {
		for _, p := range chaos.FailurePatterns() {
			if p.Upstream == "" || !strings.Contains(p.Upstream, "controllers/") || p.Why == "" {
				t.Errorf("row %s lacks its upstream source or meaning: %+v", p.Pattern, p)
			}
		}
	})
}

// TestFailFast: a permanent failure ends the injection wait within
// seconds, with the default injection_timeout; a transient one is waited
// out.
func TestFailFast(t *testing.T) {
	t.Run("a daemon that refuses connections ends injection_failed within seconds, and leaves no rule after reap", func(t *testing.T) {
		f := newFixture(t)
		// The stand-in answers this namespace's calls as a refused
		// connection (code Unavailable): 3 in a row are permanent.
		f.knob(t, chaosdaemon.UnreachableAnnotation, "true")
		o := f.opts(f.httpAbort(t))
		o.InjectionTimeout = 0 // the default, 2m
		o.DeleteTimeout = 5 * time.Second
		res, err := f.r.Run(t.Context(), o)
		if res.Verdict != chaos.VerdictInjectionFailed || err == nil || !strings.Contains(err.Error(), "connection refused") || !strings.Contains(err.Error(), "not waiting for injection_timeout 2m0s") {
			t.Fatalf("verdict %s, err %v", res.Verdict, err)
		}
		if took := failedAfter(t, res); took > 15*time.Second {
			t.Errorf("injection_failed %s after creation, want within seconds", took)
		}
		checkCleanupThenReap(t, f, res, err)
	})

	t.Run("a failing daemon call (code Unknown) is transient: waited out until injection_timeout, naming the failure", func(t *testing.T) {
		f := newFixture(t)
		f.knob(t, chaosdaemon.FailAnnotation, "tproxy exploded")
		o := f.opts(f.httpAbort(t))
		o.InjectionTimeout, o.DeleteTimeout = 5*time.Second, 5*time.Second
		start := time.Now()
		res, err := f.r.Run(t.Context(), o)
		if res.Verdict != chaos.VerdictInjectionFailed || err == nil || !strings.Contains(err.Error(), "not all targets injected within 5s") || !strings.Contains(err.Error(), "tproxy exploded") || !strings.Contains(err.Error(), f.ns+"/demo-") {
			t.Fatalf("verdict %s, err %v", res.Verdict, err)
		}
		if took := time.Since(start); took < 5*time.Second {
			t.Errorf("gave up after %s, before injection_timeout", took)
		}
		checkCleanupThenReap(t, f, res, err)
	})

	t.Run("nothing selected (the controller filters a namespace the preflight thought it would not) ends injection_failed within seconds", func(t *testing.T) {
		f := newBareFixture(t)
		// The preflight reads a controller Deployment that says it does
		// not filter namespaces, while the controller that runs does
		// (ENABLE_FILTER_NAMESPACE=true): the run passes the preflight
		// and the controller selects nothing in the namespace, which has
		// no annotation, as in issue 15.
		o := f.opts(f.httpAbort(t))
		o.ChaosNamespace, o.SkipDaemonCheck = testenv.ControllerShell(t, testenv.Config(t), filterEnv("false")), true
		o.InjectionTimeout = 0 // the default, 2m
		res, err := f.r.Run(t.Context(), o)
		if res.Verdict != chaos.VerdictInjectionFailed || err == nil || !strings.Contains(err.Error(), "Failed to select targets: ") {
			t.Fatalf("verdict %s, err %v", res.Verdict, err)
		}
		if took := failedAfter(t, res); took > 15*time.Second {
			t.Errorf("injection_failed %s after creation, want within seconds", took)
		}
		if res.Cleanup == nil || res.Cleanup.Outcome != chaos.CleanupComplete {
			t.Errorf("cleanup %+v", res.Cleanup)
		}
		f.assertNoChaosLeft(t)
	})
}

// checkCleanupThenReap checks the cleanup after a failed injection: the
// object is gone, or the cleanup is incomplete with a next step, after
// which reap with force_cleanup removes it. In no case may a PodHttpChaos
// keep a rule of the run.
func checkCleanupThenReap(t *testing.T, f *fixture, res *chaos.Result, err error) {
	t.Helper()
	switch cl := res.Cleanup; {
	case cl == nil:
		t.Errorf("no cleanup outcome")
	case cl.Outcome == chaos.CleanupIncomplete:
		if cl.Next == "" || !strings.Contains(cl.Next, "force") || !chaos.IsCleanupIncomplete(err) {
			t.Errorf("incomplete cleanup without a next step: %+v, err %v", cl, err)
		}
		f.reapForced(t, res)
	case cl.Outcome == chaos.CleanupComplete || cl.Outcome == chaos.CleanupForced:
		f.assertGone(t, res.Name)
	default:
		t.Errorf("cleanup outcome %q", cl.Outcome)
	}
	f.assertNoRules(t, res.Name)
}

func TestCancelWaitsAsLongAsDelete(t *testing.T) {
	t.Run("a finalizer that holds after a cancel: cleanup incomplete, naming the finalizer and the next step, then reap with force_cleanup", func(t *testing.T) {
		f := newFixture(t)
		// Injection works, recovery is refused: the controller keeps its
		// finalizer.
		f.knob(t, chaosdaemon.FailRecoveryAnnotation, "true")
		ctx, cancel := context.WithCancel(t.Context())
		o := f.opts(f.abortFor(t, time.Minute))
		o.DeleteTimeout = 3 * time.Second
		o.Hooks.During = func(context.Context, func(string)) { cancel() }
		res, err := f.r.Run(ctx, o)
		if res.Verdict != chaos.VerdictCancelled || !chaos.IsCleanupIncomplete(err) || !errors.Is(err, context.Canceled) {
			t.Fatalf("verdict %s, err %v", res.Verdict, err)
		}
		for _, want := range []string{"cleanup incomplete", "still present 3s after delete", "held by finalizers [chaos-mesh/records]", "still injected", "force_cleanup", "chaosops chaos reap -n " + f.ns} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error lacks %q: %v", want, err)
			}
		}
		if strings.Contains(err.Error(), "\n") {
			t.Errorf("the error is not one line (the operation's abort message keeps one): %q", err)
		}
		if cl := res.Cleanup; cl == nil || cl.Outcome != chaos.CleanupIncomplete || !strings.Contains(cl.Next, "--force-cleanup") {
			t.Errorf("cleanup %+v", res.Cleanup)
		}
		f.reapForced(t, res)
		f.assertNoChaosLeft(t)
	})

	t.Run("a finalizer released within the delete timeout after a cancel is a clean cancel", func(t *testing.T) {
		f := newFixture(t)
		f.knob(t, chaosdaemon.FailRecoveryAnnotation, "true")
		ctx, cancel := context.WithCancel(t.Context())
		o := f.opts(f.abortFor(t, time.Minute))
		o.DeleteTimeout = time.Minute
		o.Hooks.During = func(context.Context, func(string)) {
			cancel()
			// Someone lets the daemon recover after 3 s.
			go func() {
				time.Sleep(3 * time.Second)
				f.knob(t, chaosdaemon.FailRecoveryAnnotation, "")
			}()
		}
		res, err := f.r.Run(ctx, o)
		if res.Verdict != chaos.VerdictCancelled || chaos.IsCleanupIncomplete(err) || res.Cleanup == nil || res.Cleanup.Outcome != chaos.CleanupComplete {
			t.Fatalf("verdict %s, cleanup %+v, err %v", res.Verdict, res.Cleanup, err)
		}
		f.assertNoRules(t, res.Name)
		f.assertNoChaosLeft(t)
	})
}

func TestReadmeListsTheFailureTable(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	for _, p := range chaos.FailurePatterns() {
		row := fmt.Sprintf("| `%s` | %s |", p.Text, p.Class)
		if !strings.Contains(readme, row) {
			t.Errorf("README.md's fail-fast table lacks the row %q (%s)", row, p.Why)
		}
	}
}
