package kube

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cloudify-chaos/chaosops/plugin/kube/manifest"
	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
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

func TestApplyChaosMeshCRDsAndAnHTTPChaosInOneCall(t *testing.T) {
	c := newCluster(t)
	crdFile := filepath.Join(sharedDir(t), "crds", "chaos-mesh-crd.yaml")
	objs, err := manifest.Load(t.Context(), []manifest.Source{
		{Path: crdFile},
		{Name: "chaos.yaml", Inline: `apiVersion: chaos-mesh.org/v1alpha1
kind: HTTPChaos
metadata: {name: abort-3f9c, namespace: ` + c.ns + `}
spec:
  mode: all
  selector: {namespaces: [` + c.ns + `]}
  target: Request
  port: 80
  path: "*"
  abort: true
  duration: 30s
`}}, manifest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := c.mgr.Apply(t.Context(), objs, ApplyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := len(res.ChangeSet.Entries); got != 24 {
		t.Fatalf("%d entries, want 23 CRDs and 1 HTTPChaos:\n%s", got, res.ChangeSet)
	}
	last := res.ChangeSet.Entries[23]
	if last.Ref != "HTTPChaos/"+c.ns+"/abort-3f9c" || last.Action != Created || last.Origin != "chaos.yaml:1 (document 1)" {
		t.Errorf("last entry = %+v, want the HTTPChaos created after the CRDs", last)
	}
	t.Run("re-applying changes nothing", func(t *testing.T) {
		res, err := c.mgr.Apply(t.Context(), objs, ApplyOptions{Inventory: &res.Inventory, Prune: true})
		if err != nil {
			t.Fatal(err)
		}
		if n := res.ChangeSet.Count(Unchanged); n != 24 {
			t.Errorf("%d unchanged, want 24:\n%s", n, res.ChangeSet)
		}
	})
}

func TestApplyANewCRDAndItsCustomResourceInOneCall(t *testing.T) {
	c := newCluster(t)
	crd, group := c.widgetCRD(t)
	// The custom resource comes first in the source: tiers reorder it.
	objs := c.objects(t, "widgets.yaml", `apiVersion: `+group+`/v1
kind: Widget
metadata: {name: w1}
spec: {size: 3}
---
`+crd)
	res, err := c.mgr.Apply(t.Context(), objs, ApplyOptions{DefaultNamespace: c.ns})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"CustomResourceDefinition/widgets." + group + " created", "Widget/" + c.ns + "/w1 created"}
	if diff := cmp.Diff(want, refs(res.ChangeSet)); diff != "" {
		t.Errorf("change set (-want +got):\n%s", diff)
	}
	w := c.get(t, schema.GroupVersionResource{Group: group, Version: "v1", Resource: "widgets"}, c.ns, "w1")
	if w == nil {
		t.Fatal("widget not found")
	}
	if got, want := res.ChangeSet.Entries[1].Origin, "widgets.yaml:1 (document 1)"; got != want {
		t.Errorf("origin = %q, want %q", got, want)
	}
	if len(res.Inventory.Entries) != 2 || res.Inventory.Entries[1].UID != string(w.GetUID()) {
		t.Errorf("inventory = %+v, want both objects with their UIDs", res.Inventory)
	}
}

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
		if diff := cmp.Diff(first.Inventory, res.Inventory); diff != "" {
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
		cm := c.get(t, configMaps, c.ns, "settings")
		unstructured.SetNestedField(cm.Object, "tampered", "data", "mode")
		if _, err := c.client.Dynamic.Resource(configMaps).Namespace(c.ns).Update(t.Context(), cm, metav1.UpdateOptions{FieldManager: "kubectl-edit"}); err != nil {
			t.Fatal(err)
		}
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

func TestApplyPrunes(t *testing.T) {
	c := newCluster(t)
	two := `apiVersion: v1
kind: ConfigMap
metadata: {name: keep}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: drop}
`
	one := "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: keep}\n"
	apply := func(t *testing.T, text string, opts ApplyOptions) *ApplyResult {
		t.Helper()
		opts.DefaultNamespace = c.ns
		res, err := c.mgr.Apply(t.Context(), c.objects(t, "app.yaml", text), opts)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}

	t.Run("objects that left the source are pruned", func(t *testing.T) {
		first := apply(t, two, ApplyOptions{})
		res := apply(t, one, ApplyOptions{Inventory: &first.Inventory, Prune: true, Wait: true, Timeout: time.Minute})
		want := []string{"ConfigMap/" + c.ns + "/keep unchanged", "ConfigMap/" + c.ns + "/drop deleted"}
		if diff := cmp.Diff(want, refs(res.ChangeSet)); diff != "" {
			t.Errorf("change set (-want +got):\n%s", diff)
		}
		if c.get(t, configMaps, c.ns, "drop") != nil {
			t.Error("drop still exists")
		}
		if len(res.Inventory.Entries) != 1 || res.Inventory.Entries[0].Name != "keep" {
			t.Errorf("inventory = %+v, want only keep", res.Inventory)
		}
	})
	t.Run("an empty source does not prune everything", func(t *testing.T) {
		first := apply(t, two, ApplyOptions{})
		_, err := c.mgr.Apply(t.Context(), nil, ApplyOptions{DefaultNamespace: c.ns, Inventory: &first.Inventory, Prune: true})
		mustContain(t, err, "source: has no objects; refusing to prune all 2 objects")
		if c.get(t, configMaps, c.ns, "drop") == nil {
			t.Error("drop was deleted")
		}
	})
	t.Run("with prune off objects that left the source stay, and stay in the inventory", func(t *testing.T) {
		first := apply(t, two, ApplyOptions{})
		res := apply(t, one, ApplyOptions{Inventory: &first.Inventory, Prune: false})
		if c.get(t, configMaps, c.ns, "drop") == nil {
			t.Error("drop was deleted")
		}
		if len(res.Inventory.Entries) != 2 {
			t.Errorf("inventory = %+v, want keep and drop", res.Inventory)
		}
	})
	t.Run("an object recreated by someone else is not pruned", func(t *testing.T) {
		first := apply(t, two, ApplyOptions{})
		stale := first.Inventory
		stale.Entries = append([]InventoryEntry(nil), stale.Entries...)
		stale.Entries[1].UID = string(types.UID("00000000-0000-0000-0000-000000000000"))
		res := apply(t, one, ApplyOptions{Inventory: &stale, Prune: true})
		if c.get(t, configMaps, c.ns, "drop") == nil {
			t.Fatal("drop was deleted although its UID differs from the inventory's")
		}
		if got := res.ChangeSet.Entries[1]; got.Action != Skipped || !strings.Contains(got.Message, "not the object we applied") {
			t.Errorf("entry = %s, want skipped", got)
		}
		if len(res.Inventory.Entries) != 1 {
			t.Errorf("inventory = %+v, want the skipped object forgotten", res.Inventory)
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
			if !IsInvalid(err) {
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
		if !IsInvalid(err) {
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
		if !IsNotReady(err) || IsInvalid(err) {
			t.Errorf("IsNotReady = %v, IsInvalid = %v; want a not-ready error", IsNotReady(err), IsInvalid(err))
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

func TestPlan(t *testing.T) {
	c := newCluster(t)
	objs := c.objects(t, "app.yaml", appYAML)
	t.Run("the plan lists every object without writing anything", func(t *testing.T) {
		inv, err := c.mgr.Plan(t.Context(), objs, ApplyOptions{DefaultNamespace: c.ns})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, e := range inv.Entries {
			got = append(got, e.Ref()+" uid="+e.UID)
		}
		want := []string{"ConfigMap/" + c.ns + "/settings uid=", "Secret/" + c.ns + "/creds uid=", "Service/" + c.ns + "/web uid=", "Deployment/" + c.ns + "/web uid="}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("plan (-want +got):\n%s", diff)
		}
		if c.get(t, configMaps, c.ns, "settings") != nil {
			t.Error("Plan wrote an object")
		}
	})
	t.Run("objects of a plan whose apply never returned are deleted when ours", func(t *testing.T) {
		planned, err := c.mgr.Plan(t.Context(), objs, ApplyOptions{DefaultNamespace: c.ns})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.mgr.Apply(t.Context(), objs, ApplyOptions{DefaultNamespace: c.ns}); err != nil {
			t.Fatal(err)
		}
		res, err := c.mgr.Delete(t.Context(), DeleteOptions{Inventory: &planned, Timeout: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		if n := res.ChangeSet.Count(Deleted); n != 4 {
			t.Errorf("%d deleted, want 4:\n%s", n, res.ChangeSet)
		}
	})
	t.Run("a plan of bad input fails like Apply", func(t *testing.T) {
		_, err := c.mgr.Plan(t.Context(), c.objects(t, "bad.yaml", "apiVersion: example.com/v1\nkind: Gizmo\nmetadata: {name: g}\n"), ApplyOptions{DefaultNamespace: c.ns})
		mustContain(t, err, "Gizmo/g from bad.yaml:1 (document 1): resolve failed")
	})
}
