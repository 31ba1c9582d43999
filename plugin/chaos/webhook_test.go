package chaos_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"github.com/cloudify-chaos/chaosops/plugin/chaos"
	"github.com/cloudify-chaos/chaosops/plugin/internal/testenv"
)

// TestWebhookDenial: Chaos Mesh's vauth webhook (SECURITY_MODE=true,
// pkg/webhook/validate_auth.go) asks, with a SubjectAccessReview, whether
// the requester may create the kind in every namespace the selector
// affects. A runner allowed to create HTTPChaos in its own namespace but
// not in the targets' namespace passes RBAC and is denied by the webhook,
// at the server-side dry run.
func TestWebhookDenial(t *testing.T) {
	cfg := testenv.Config(t)
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	targets := newFixture(t) // the demo app, opted in
	runnerNS := testenv.Namespace(t, cfg)
	const sa = "chaosops-runner"
	user := "system:serviceaccount:" + runnerNS + ":" + sa
	// What the preflight and a run read and write, in the runner's
	// namespace; reading the targets; reading namespaces (the opt-in). No
	// right on chaos objects in the targets' namespace.
	grant(t, cs, runnerNS, sa, runnerNS, rbacv1.PolicyRule{APIGroups: []string{"chaos-mesh.org"}, Resources: []string{"*"}, Verbs: []string{"get", "list", "watch", "create", "delete", "patch", "update"}},
		rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"events"}, Verbs: []string{"list"}})
	grant(t, cs, runnerNS, sa, targets.ns, rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: []string{"get", "list"}})
	grantCluster(t, cs, runnerNS, sa, rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"namespaces"}, Verbs: []string{"get"}})

	runnerCfg := testenv.Config(t)
	runnerCfg.Impersonate.UserName = user
	dyn, err := dynamic.NewForConfig(runnerCfg)
	if err != nil {
		t.Fatal(err)
	}
	logs := &logBuffer{}
	r := &chaos.Runner{Dynamic: dyn, Log: slog.New(slog.NewTextHandler(logs, nil)), Now: time.Now}
	run := func(t *testing.T) (*chaos.Result, string, error) {
		t.Helper()
		obj := targets.httpAbort(t)
		obj.Namespace = runnerNS
		setNamespaces(&chaos.RunOptions{Object: obj}, targets.ns)
		o := targets.opts(obj)
		o.Namespace = runnerNS
		var intent string
		o.OnIntent = func(name string) error { intent = name; return nil }
		res, err := r.Run(t.Context(), o)
		return res, intent, err
	}

	t.Run("a runner without create on HTTPChaos in the targets' namespace: precheck_failed with the webhook's message, nothing created", func(t *testing.T) {
		res, intent, err := run(t)
		if res.Verdict != chaos.VerdictPrecheckFailed || !chaos.IsPrecheck(err) {
			t.Fatalf("verdict %s, err %v\n%s", res.Verdict, err, logs)
		}
		for _, want := range []string{`admission webhook "vauth.kb.io" denied the request`, user + " is forbidden on namespace " + targets.ns, "nothing was created"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error lacks %q: %v", want, err)
			}
		}
		if intent == "" || res.Cleanup != nil || hasStep(res, chaos.StepCreated) {
			t.Errorf("intent %q, cleanup %+v, timeline %v", intent, res.Cleanup, steps(res))
		}
		for _, ns := range []string{runnerNS, targets.ns} {
			l, err := targets.dyn.Resource(gvrHTTPChaos).Namespace(ns).List(t.Context(), metav1.ListOptions{})
			if err != nil || len(l.Items) != 0 {
				t.Errorf("HTTPChaos in %s: %d, err %v", ns, len(l.Items), err)
			}
		}
	})

	t.Run("the same runner passes once it may create HTTPChaos in the targets' namespace", func(t *testing.T) {
		grant(t, cs, runnerNS, sa, targets.ns, rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: []string{"get", "list"}},
			rbacv1.PolicyRule{APIGroups: []string{"chaos-mesh.org"}, Resources: []string{"httpchaos"}, Verbs: []string{"create"}})
		// RBAC changes reach the authorizer's cache a moment later.
		var res *chaos.Result
		var err error
		eventually(t, 30*time.Second, func() string {
			if res, _, err = run(t); res.Verdict == chaos.VerdictPrecheckFailed && strings.Contains(err.Error(), "vauth.kb.io") {
				return "still denied: " + err.Error()
			}
			return ""
		})
		if err != nil || res.Verdict != chaos.VerdictPass {
			t.Fatalf("verdict %s, err %v\n%s", res.Verdict, err, logs)
		}
	})
}

// grant binds a Role with rules in ns to the ServiceAccount saNS/sa
// (replacing an earlier grant there).
func grant(t *testing.T, cs kubernetes.Interface, saNS, sa, ns string, rules ...rbacv1.PolicyRule) {
	t.Helper()
	name := "chaosops-test-" + sa
	role := &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, Rules: rules}
	if _, err := cs.RbacV1().Roles(ns).Get(t.Context(), name, metav1.GetOptions{}); err == nil {
		if _, err := cs.RbacV1().Roles(ns).Update(t.Context(), role, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
		return
	}
	if _, err := cs.RbacV1().Roles(ns).Create(t.Context(), role, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	rb := &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: name},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: sa, Namespace: saNS}},
	}
	if _, err := cs.RbacV1().RoleBindings(ns).Create(t.Context(), rb, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// grantCluster binds a ClusterRole with rules to saNS/sa until t ends.
func grantCluster(t *testing.T, cs kubernetes.Interface, saNS, sa string, rules ...rbacv1.PolicyRule) {
	t.Helper()
	name := "chaosops-test-" + saNS
	if _, err := cs.RbacV1().ClusterRoles().Create(t.Context(), &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: name}, Rules: rules}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	crb := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: name},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: sa, Namespace: saNS}},
	}
	if _, err := cs.RbacV1().ClusterRoleBindings().Create(t.Context(), crb, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx := context.WithoutCancel(t.Context())
		_ = cs.RbacV1().ClusterRoleBindings().Delete(ctx, name, metav1.DeleteOptions{})
		_ = cs.RbacV1().ClusterRoles().Delete(ctx, name, metav1.DeleteOptions{})
	})
}

func testenvDynamic(t *testing.T) dynamic.Interface {
	t.Helper()
	dyn, err := dynamic.NewForConfig(testenv.Config(t))
	if err != nil {
		t.Fatal(err)
	}
	return dyn
}
