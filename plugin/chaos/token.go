package chaos

import (
	"context"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
)

// DashboardRole is the access a dashboard token grants.
type DashboardRole string

// The dashboard roles: read-only, or able to create and delete experiments.
const (
	DashboardViewer  DashboardRole = "viewer"
	DashboardManager DashboardRole = "manager"
)

// DefaultTokenTTL is the lifetime of a dashboard token when none is given.
const DefaultTokenTTL = time.Hour

// TokenOptions describe a dashboard token.
type TokenOptions struct {
	Namespace string        // the app namespace the token may act in
	Role      DashboardRole // viewer or manager
	TTL       time.Duration // default 1h; the API server may shorten it
}

// Token is a minted dashboard token. Value is a secret.
type Token struct {
	Value          string    `json:"-"`
	ServiceAccount string    `json:"service_account"`
	Namespace      string    `json:"namespace"`
	Role           string    `json:"role"`
	ExpiresAt      time.Time `json:"expires_at"`
}

// rules of the least-privilege Roles: chaos-mesh.org objects of the app
// namespace, plus read access to its pods and events so the dashboard can
// show targets. No ClusterRole, no wildcard verbs on other groups.
func dashboardRules(role DashboardRole) []any {
	verbs := []any{"get", "list", "watch"}
	if role == DashboardManager {
		verbs = append(verbs, "create", "update", "patch", "delete")
	}
	return []any{
		map[string]any{"apiGroups": []any{"chaos-mesh.org"}, "resources": []any{"*"}, "verbs": verbs},
		map[string]any{"apiGroups": []any{""}, "resources": []any{"pods", "namespaces", "events"}, "verbs": []any{"get", "list", "watch"}},
	}
}

// DashboardToken ensures a ServiceAccount, Role and RoleBinding named
// chaosops-dashboard-<role> in the namespace (server-side apply, so it is
// idempotent) and mints a short-lived token for it with the TokenRequest
// API. On Kubernetes ≥ 1.24 a ServiceAccount has no token Secret, which is
// why reading ServiceAccount.secrets[0] does not work.
func (r *Runner) DashboardToken(ctx context.Context, o TokenOptions) (*Token, error) {
	if err := o.Check(); err != nil {
		return nil, err
	}
	if o.Role == "" {
		o.Role = DashboardViewer
	}
	if o.TTL == 0 {
		o.TTL = DefaultTokenTTL
	}
	name := "chaosops-dashboard-" + string(o.Role)
	meta := map[string]any{"name": name, "namespace": o.Namespace, "labels": map[string]any{LabelManagedBy: ManagedBy}}
	apply := func(res string, body map[string]any) error {
		u := &unstructured.Unstructured{Object: body}
		data, err := u.MarshalJSON()
		if err != nil {
			return err
		}
		var ri = r.Dynamic.Resource(gvrSA).Namespace(o.Namespace)
		switch res {
		case "Role":
			ri = r.Dynamic.Resource(gvrRoles).Namespace(o.Namespace)
		case "RoleBinding":
			ri = r.Dynamic.Resource(gvrRoleBinding).Namespace(o.Namespace)
		}
		force := true
		if _, err := ri.Patch(ctx, name, types.ApplyPatchType, data, metav1.PatchOptions{FieldManager: "chaosops", Force: &force}); err != nil {
			return fmt.Errorf("%s: %w", ref(res, o.Namespace, name), err)
		}
		return nil
	}
	if err := apply("ServiceAccount", map[string]any{"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta}); err != nil {
		return nil, err
	}
	if err := apply("Role", map[string]any{"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": meta, "rules": dashboardRules(o.Role)}); err != nil {
		return nil, err
	}
	if err := apply("RoleBinding", map[string]any{
		"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": meta,
		"roleRef":  map[string]any{"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name},
		"subjects": []any{map[string]any{"kind": "ServiceAccount", "name": name, "namespace": o.Namespace}},
	}); err != nil {
		return nil, err
	}
	req := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
		"metadata": map[string]any{"name": name, "namespace": o.Namespace},
		"spec":     map[string]any{"expirationSeconds": int64(o.TTL / time.Second)},
	}}
	// The token is created as the "token" subresource of the ServiceAccount.
	out, err := r.Dynamic.Resource(gvrSA).Namespace(o.Namespace).Create(ctx, req, metav1.CreateOptions{}, "token")
	if err != nil {
		if apierrors.IsNotFound(err) {
			return nil, fmt.Errorf("%s: the TokenRequest API is not available: %w", ref("ServiceAccount", o.Namespace, name), err)
		}
		return nil, fmt.Errorf("%s: request token: %w", ref("ServiceAccount", o.Namespace, name), err)
	}
	value, _, _ := unstructured.NestedString(out.Object, "status", "token")
	exp, _, _ := unstructured.NestedString(out.Object, "status", "expirationTimestamp")
	expires, _ := time.Parse(time.RFC3339, exp)
	if value == "" {
		return nil, fmt.Errorf("%s: the API server returned no token", ref("ServiceAccount", o.Namespace, name))
	}
	r.Log.Info(fmt.Sprintf("%s: minted a %s dashboard token valid until %s", ref("ServiceAccount", o.Namespace, name), o.Role, expires.Format(time.RFC3339)))
	return &Token{Value: value, ServiceAccount: name, Namespace: o.Namespace, Role: string(o.Role), ExpiresAt: expires}, nil
}
