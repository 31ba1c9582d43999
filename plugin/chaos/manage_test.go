package chaos_test

import (
	"context"
	"strings"
	"testing"
	"time"

	authzv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/cloudify-chaos/chaosops/plugin/chaos"
	"github.com/cloudify-chaos/chaosops/plugin/failure"
	"github.com/cloudify-chaos/chaosops/plugin/internal/testenv"
)

// startHeld runs an experiment in the background until its context ends and
// waits until it is injected.
func startHeld(t *testing.T, f *fixture, deployment, blueprint string) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.WithoutCancel(t.Context()))
	injected := make(chan struct{})
	done := make(chan struct{})
	o := f.opts(f.httpAbort(t))
	o.Owner.Deployment, o.Owner.Blueprint = deployment, blueprint
	d := "2m"
	o.Object.Spec.Common().Duration = &d
	o.Hooks.During = func(context.Context, func(string)) { close(injected) }
	go func() {
		defer close(done)
		_, _ = f.r.Run(ctx, o)
	}()
	select {
	case <-injected:
	case <-done:
		t.Fatalf("the run ended before injection:\n%s", f.logs)
	case <-time.After(30 * time.Second):
		t.Fatal("not injected within 30s")
	}
	return func() { cancel(); <-done }
}

func TestReapAndHaltAll(t *testing.T) {
	t.Run("reap deletes only the chaos objects of its deployment", func(t *testing.T) {
		f := newFixture(t)
		g := newFixture(t)
		stopF := startHeld(t, f, "dep-one-"+f.ns, "bp")
		defer stopF()
		stopG := startHeld(t, g, "dep-two-"+g.ns, "bp")
		defer stopG()
		objs, err := f.r.Reap(t.Context(), chaos.Selection{Deployment: "dep-one-" + f.ns}, chaos.RunOptions{DeleteTimeout: 20 * time.Second})
		if err != nil || len(objs) != 1 {
			t.Fatalf("reaped %v, err %v", objs, err)
		}
		f.assertNoChaosLeft(t)
		if left := g.chaosObjects(t); len(left) != 1 {
			t.Errorf("the other deployment's run was touched: %v", left)
		}
	})
	t.Run("halt_all deletes every run chaosops created, in every namespace", func(t *testing.T) {
		f := newFixture(t)
		g := newFixture(t)
		stopF := startHeld(t, f, "dep-a", "bp-"+f.ns)
		defer stopF()
		stopG := startHeld(t, g, "dep-b", "bp-"+f.ns)
		defer stopG()
		// Every namespace and deployment; limited to this test's blueprint so
		// that parallel test packages keep their runs.
		objs, err := f.r.Reap(t.Context(), chaos.Selection{Blueprint: "bp-" + f.ns}, chaos.RunOptions{DeleteTimeout: 20 * time.Second})
		if err != nil || len(objs) < 2 {
			t.Fatalf("halted %d objects, err %v", len(objs), err)
		}
		f.assertNoChaosLeft(t)
		g.assertNoChaosLeft(t)
	})

	// The run's process "dies" once injected: its context ends without
	// the cleanup (CleanupGrace 1ns leaves it no time), and the fault stays
	// until reap or halt_all removes the object.
	for _, tc := range []struct {
		name string
		sel  func(f *fixture, runID string) chaos.Selection
	}{
		{"reap removes the object of a run whose process died, and the fault goes", func(f *fixture, runID string) chaos.Selection {
			return chaos.Selection{Namespace: f.ns, RunID: runID}
		}},
		{"halt_all removes the object of a run whose process died, and the fault goes", func(f *fixture, _ string) chaos.Selection {
			return chaos.Selection{Namespace: f.ns}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newRig(t)
			o := f.opts(f.abortFor(t, 2*time.Minute))
			o.Owner.RunID = chaos.NewRunID()
			o.CleanupGrace = time.Nanosecond
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			ch, n := f.startInjected(t, ctx, o)
			cancel()
			wait(t, ch, 2*time.Minute)
			if f.get(t, n) == nil {
				t.Fatal("the cancelled run's own cleanup removed the object; want it left for reap")
			}
			if err := f.get200(); err == nil {
				t.Error("the fault is not in effect after the process died")
			}
			objs, err := f.r.Reap(t.Context(), tc.sel(f, o.Owner.RunID), f.opts(nil))
			if err != nil {
				t.Fatalf("reap: %v", err)
			}
			if len(objs) != 1 || objs[0].Name != n || objs[0].Cleanup == nil || objs[0].Cleanup.Outcome != chaos.CleanupComplete {
				t.Errorf("reap: %+v", objs)
			}
			f.assertGone(t, n)
			f.assertNoRules(t, n)
			eventually(t, 30*time.Second, func() string {
				if err := f.get200(); err != nil {
					return "after reap, requests fail: " + err.Error()
				}
				return ""
			})
		})
	}
}

func TestDashboardTokenIsLeastPrivilege(t *testing.T) {
	f := newFixture(t)
	other := newFixture(t)
	cfg := testenv.Config(t)
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	can := func(user, verb, resource, group, ns string) bool {
		t.Helper()
		r, err := cs.AuthorizationV1().SubjectAccessReviews().Create(t.Context(), &authzv1.SubjectAccessReview{Spec: authzv1.SubjectAccessReviewSpec{
			User:               user,
			Groups:             []string{"system:serviceaccounts", "system:serviceaccounts:" + f.ns, "system:authenticated"},
			ResourceAttributes: &authzv1.ResourceAttributes{Namespace: ns, Verb: verb, Group: group, Resource: resource},
		}}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return r.Status.Allowed
	}
	for _, role := range []chaos.DashboardRole{chaos.DashboardViewer, chaos.DashboardManager} {
		t.Run(string(role)+" token is minted and scoped to the app namespace", func(t *testing.T) {
			tok, err := f.r.DashboardToken(t.Context(), chaos.TokenOptions{Namespace: f.ns, Role: role, TTL: time.Hour})
			if err != nil {
				t.Fatal(err)
			}
			if tok.Value == "" || time.Until(tok.ExpiresAt) > 2*time.Hour || time.Until(tok.ExpiresAt) < 30*time.Minute {
				t.Fatalf("token expires at %s", tok.ExpiresAt)
			}
			user := "system:serviceaccount:" + f.ns + ":" + tok.ServiceAccount
			if !can(user, "list", "httpchaos", "chaos-mesh.org", f.ns) {
				t.Error("cannot list HTTPChaos in the app namespace")
			}
			if got := can(user, "create", "httpchaos", "chaos-mesh.org", f.ns); got != (role == chaos.DashboardManager) {
				t.Errorf("create HTTPChaos allowed = %v", got)
			}
			if can(user, "list", "httpchaos", "chaos-mesh.org", other.ns) {
				t.Error("can list HTTPChaos in another namespace")
			}
			if can(user, "get", "secrets", "", f.ns) {
				t.Error("can read Secrets")
			}
			if !strings.Contains(f.logs.String(), "minted a "+string(role)) || strings.Contains(f.logs.String(), tok.Value) {
				t.Error("the token was logged, or the mint was not")
			}
		})
	}
	t.Run("a ttl below the API server's minimum names the field", func(t *testing.T) {
		if _, err := f.r.DashboardToken(t.Context(), chaos.TokenOptions{Namespace: f.ns, TTL: time.Minute}); err == nil || !failure.IsInvalid(err) {
			t.Fatalf("err = %v", err)
		}
	})
}
