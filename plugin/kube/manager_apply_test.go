package kube

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/cloudify-chaos/chaosops/plugin/failure"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

const appYAML = `apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: {{.ns}}}
data: {mode: calm}
---
apiVersion: v1
kind: Secret
metadata: {name: creds}
stringData: {password: hunter2}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: nginx:1.27}]
`

func TestReapply(t *testing.T) {
	c := newCluster(t)
	objs := c.objects(t, "app.yaml", appYAML)
	first, err := c.mgr.Apply(t.Context(), objs, ApplyOptions{DefaultNamespace: c.ns})
	if err != nil {
		t.Fatal(err)
	}
	if n := first.ChangeSet.Count(Created); n != 4 {
		t.Fatalf("%d created, want 4:\n%s", n, first.ChangeSet)
	}
	before := c.get(t, deployments, c.ns, "web")

	t.Run("re-applying unchanged objects changes nothing", func(t *testing.T) {
		res, err := c.mgr.Apply(t.Context(), objs, ApplyOptions{DefaultNamespace: c.ns, Inventory: &first.Inventory, Prune: true})
		if err != nil {
			t.Fatal(err)
		}
		if n := res.ChangeSet.Count(Unchanged); n != 4 {
			t.Errorf("%d unchanged, want 4:\n%s", n, res.ChangeSet)
		}
		after := c.get(t, deployments, c.ns, "web")
		if after.GetGeneration() != before.GetGeneration() {
			t.Errorf("generation %d -> %d", before.GetGeneration(), after.GetGeneration())
		}
		// A controller's status update moves the resourceVersion; the
		// inventory records the new one.
		if diff := cmp.Diff(first.Inventory, res.Inventory, cmpopts.IgnoreFields(InventoryEntry{}, "ResourceVersion")); diff != "" {
			t.Errorf("inventory changed (-first +second):\n%s", diff)
		}
	})
	t.Run("a changed object is configured and the others stay unchanged", func(t *testing.T) {
		changed := c.objects(t, "app.yaml", strings.Replace(appYAML, "mode: calm", "mode: chaos", 1))
		res, err := c.mgr.Apply(t.Context(), changed, ApplyOptions{DefaultNamespace: c.ns})
		if err != nil {
			t.Fatal(err)
		}
		want := []string{
			"ConfigMap/" + c.ns + "/settings configured",
			"Secret/" + c.ns + "/creds unchanged",
			"Service/" + c.ns + "/web unchanged",
			"Deployment/" + c.ns + "/web unchanged",
		}
		if diff := cmp.Diff(want, refs(res.ChangeSet)); diff != "" {
			t.Errorf("change set (-want +got):\n%s", diff)
		}
	})
	t.Run("a field changed by someone else is restored", func(t *testing.T) {
		c.update(t, configMaps, c.ns, "settings", func(cm *unstructured.Unstructured) {
			unstructured.SetNestedField(cm.Object, "tampered", "data", "mode")
		})
		res, err := c.mgr.Apply(t.Context(), objs, ApplyOptions{DefaultNamespace: c.ns, ForceConflicts: true})
		if err != nil {
			t.Fatal(err)
		}
		if got := res.ChangeSet.Entries[0]; got.Action != Configured {
			t.Errorf("entry = %s, want configured", got)
		}
		if mode, _, _ := unstructured.NestedString(c.get(t, configMaps, c.ns, "settings").Object, "data", "mode"); mode != "calm" {
			t.Errorf("mode = %q, want calm", mode)
		}
	})
}

func TestApplyBadInput(t *testing.T) {
	c := newCluster(t)
	tests := []struct {
		name string
		text string
		want []string
	}{{
		name: "an unknown kind is named with its source and nothing is applied",
		text: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: fine}\n---\napiVersion: example.com/v1\nkind: Gizmo\nmetadata: {name: g}\n",
		want: []string{"Gizmo/g from bad.yaml:5 (document 2): resolve failed: the API server has no kind Gizmo in example.com/v1"},
	}, {
		name: "a cluster-scoped object with a namespace is refused",
		text: "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: x, namespace: {{.ns}}}\n",
		want: []string{"ClusterRole/{{.ns}}/x from bad.yaml:1 (document 1): resolve failed: ClusterRole is cluster-scoped", "remove the namespace"},
	}, {
		name: "a namespace that does not exist is named",
		text: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x, namespace: no-such-ns-{{.ns}}}\n",
		want: []string{"ConfigMap/no-such-ns-{{.ns}}/x from bad.yaml:1 (document 1): apply failed", `namespaces "no-such-ns-{{.ns}}" not found`},
	}, {
		name: "the same object twice is refused",
		text: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n",
		want: []string{"ConfigMap/{{.ns}}/x from bad.yaml:5 (document 2): resolve failed: duplicate of the object from bad.yaml:1 (document 1)"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := c.mgr.Apply(t.Context(), c.objects(t, "bad.yaml", tt.text), ApplyOptions{DefaultNamespace: c.ns})
			var want []string
			for _, w := range tt.want {
				want = append(want, strings.ReplaceAll(w, "{{.ns}}", c.ns))
			}
			mustContain(t, err, want...)
			if !failure.IsInvalid(err) {
				t.Errorf("IsInvalid = false for %v", err)
			}
			if len(res.ChangeSet.Entries) != 0 {
				t.Errorf("applied %s; want nothing applied", res.ChangeSet)
			}
			if c.get(t, configMaps, c.ns, "fine") != nil {
				t.Error("an object of the bad source was applied")
			}
		})
	}

	t.Run("an object the API server rejects is named, and what was applied is listed", func(t *testing.T) {
		res, err := c.mgr.Apply(t.Context(), c.objects(t, "bad.yaml", `apiVersion: v1
kind: ConfigMap
metadata: {name: good}
---
apiVersion: v1
kind: Service
metadata: {name: bad-port}
spec: {ports: [{port: 99999}]}
`), ApplyOptions{DefaultNamespace: c.ns})
		mustContain(t, err, "Service/"+c.ns+"/bad-port from bad.yaml:5 (document 2): apply failed", "99999")
		if !failure.IsInvalid(err) {
			t.Errorf("IsInvalid = false for %v", err)
		}
		if diff := cmp.Diff([]string{"ConfigMap/" + c.ns + "/good created"}, refs(res.ChangeSet)); diff != "" {
			t.Errorf("change set (-want +got):\n%s", diff)
		}
		if len(res.Inventory.Entries) != 1 || res.Inventory.Entries[0].Name != "good" {
			t.Errorf("inventory = %+v, want the applied ConfigMap", res.Inventory)
		}
	})

	t.Run("a field owned by another manager is a conflict that names force_conflicts", func(t *testing.T) {
		other := &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "v1", "kind": "ConfigMap",
			"metadata": map[string]any{"name": "shared", "namespace": c.ns},
			"data":     map[string]any{"owner": "them"},
		}}
		if _, err := c.client.Dynamic.Resource(configMaps).Namespace(c.ns).Apply(t.Context(), "shared", other, metav1.ApplyOptions{FieldManager: "someone-else"}); err != nil {
			t.Fatal(err)
		}
		ours := c.objects(t, "cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: shared}\ndata: {owner: us}\n")
		_, err := c.mgr.Apply(t.Context(), ours, ApplyOptions{DefaultNamespace: c.ns})
		mustContain(t, err, "ConfigMap/"+c.ns+"/shared from cm.yaml:1 (document 1): apply failed", "someone-else", "use force_conflicts")
		res, err := c.mgr.Apply(t.Context(), ours, ApplyOptions{DefaultNamespace: c.ns, ForceConflicts: true})
		if err != nil {
			t.Fatal(err)
		}
		if res.ChangeSet.Entries[0].Action != Configured {
			t.Errorf("entry = %s, want configured", res.ChangeSet.Entries[0])
		}
	})
}

func TestApplyDryRun(t *testing.T) {
	c := newCluster(t)
	crd, group := c.widgetCRD(t)
	objs := c.objects(t, "app.yaml", appYAML+"---\n"+crd+"---\napiVersion: "+group+"/v1\nkind: Widget\nmetadata: {name: w}\n"+
		"---\napiVersion: v1\nkind: Namespace\nmetadata: {name: dry-{{.ns}}}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: dry-{{.ns}}}\n")
	res, err := c.mgr.Apply(t.Context(), objs, ApplyOptions{DefaultNamespace: c.ns, DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if n := res.ChangeSet.Count(Created); n != 8 || !res.DryRun {
		t.Errorf("%d created (dry run %v), want 8:\n%s", n, res.DryRun, res.ChangeSet)
	}
	if c.get(t, schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}, "", "dry-"+c.ns) != nil {
		t.Error("a dry run created a namespace")
	}
	if c.get(t, deployments, c.ns, "web") != nil || c.get(t, crds, "", "widgets."+group) != nil {
		t.Error("a dry run persisted objects")
	}
	if res.Inventory.Len() != 0 {
		t.Errorf("inventory = %+v, want the previous (empty) one", res.Inventory)
	}
}

func TestApplyWaitsForReadiness(t *testing.T) {
	c := newCluster(t)
	t.Run("a Deployment on a kwok node becomes ready and reports its replicas", func(t *testing.T) {
		res, err := c.mgr.Apply(t.Context(), c.objects(t, "app.yaml", appYAML), ApplyOptions{DefaultNamespace: c.ns, Wait: true, Timeout: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range res.ChangeSet.Entries {
			if e.Kind == "Deployment" && e.Status["readyReplicas"] != "1/1" {
				t.Errorf("%s: status %v, want readyReplicas 1/1", e.Ref, e.Status)
			}
		}
	})
	unschedulable := `apiVersion: apps/v1
kind: Deployment
metadata: {name: stuck}
spec:
  replicas: 1
  selector: {matchLabels: {app: stuck}}
  template:
    metadata: {labels: {app: stuck}}
    spec:
      nodeSelector: {no-such-label: "true"}
      containers: [{name: c, image: nginx:1.27}]
`
	t.Run("a Deployment that cannot become ready is listed with its reason at the timeout", func(t *testing.T) {
		start := time.Now()
		res, err := c.mgr.Apply(t.Context(), c.objects(t, "stuck.yaml", unschedulable), ApplyOptions{DefaultNamespace: c.ns, Wait: true, Timeout: 3 * time.Second})
		mustContain(t, err, "timed out after 3s waiting for 1 object(s) to become ready", "Deployment/"+c.ns+"/stuck: InProgress")
		var nr *NotReadyError
		if !errors.As(err, &nr) || failure.IsInvalid(err) {
			t.Errorf("NotReadyError = %v, IsInvalid = %v; want a not-ready error", errors.As(err, &nr), failure.IsInvalid(err))
		}
		if d := time.Since(start); d > 10*time.Second {
			t.Errorf("took %s for a 3s timeout", d)
		}
		if res.Inventory.Len() != 1 {
			t.Errorf("inventory = %+v, want the applied Deployment", res.Inventory)
		}
	})
	t.Run("cancelling returns promptly with the cancellation and the inventory", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		time.AfterFunc(time.Second, cancel)
		start := time.Now()
		res, err := c.mgr.Apply(ctx, c.objects(t, "stuck.yaml", unschedulable), ApplyOptions{DefaultNamespace: c.ns, Wait: true, Timeout: time.Minute})
		if !errors.Is(err, context.Canceled) || !strings.HasPrefix(err.Error(), "apply interrupted") {
			t.Errorf("error = %v, want apply interrupted: context canceled", err)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("took %s to return after cancel", d)
		}
		if res.Inventory.Len() != 1 {
			t.Errorf("inventory = %+v, want the applied Deployment", res.Inventory)
		}
	})
}
