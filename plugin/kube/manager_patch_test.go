package kube

import (
	"strings"
	"testing"

	"github.com/cloudify-chaos/chaosops/plugin/failure"
	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// patchBaseYAML is a whole Deployment, applied by chaosops.
const patchBaseYAML = `apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: {{.ns}}, labels: {app: web}}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
        - name: web
          image: nginx:1.27
          volumeMounts: [{name: data, mountPath: /data}]
      volumes: [{name: data, emptyDir: {}}]
`

// patchYAML adds one volume and its mount to container web, and repeats
// a label the whole object sets too.
const patchYAML = `apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: {{.ns}}, labels: {app: web}}
spec:
  template:
    spec:
      containers:
        - name: web
          volumeMounts: [{name: extra, mountPath: /extra, readOnly: true}]
      volumes: [{name: extra, configMap: {name: extra}}]
`

const patchManager = "chaosops-test-patch"

func TestPatch(t *testing.T) {
	c := newCluster(t)
	base := c.objects(t, "base.yaml", patchBaseYAML)
	applied, err := c.mgr.Apply(t.Context(), base, ApplyOptions{DefaultNamespace: c.ns})
	if err != nil {
		t.Fatal(err)
	}
	before := c.get(t, deployments, c.ns, "web")
	opts := PatchOptions{FieldManager: patchManager}
	var patched *PatchResult

	t.Run("a patch adds its fields and leaves the others", func(t *testing.T) {
		patched, err = c.mgr.Patch(t.Context(), c.objects(t, "patch.yaml", patchYAML), opts)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]string{"Deployment/" + c.ns + "/web configured"}, refs(patched.ChangeSet)); diff != "" {
			t.Errorf("change set (-want +got):\n%s", diff)
		}
		live := c.get(t, deployments, c.ns, "web")
		if diff := cmp.Diff([]string{"data", "extra"}, names(t, live, "spec", "template", "spec", "volumes")); diff != "" {
			t.Errorf("volumes (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]string{"data", "extra"}, mountNames(t, live, "web")); diff != "" {
			t.Errorf("mounts (-want +got):\n%s", diff)
		}
		if got := live.GetAnnotations()[HashAnnotation]; got != before.GetAnnotations()[HashAnnotation] {
			t.Errorf("the apply hash changed from %q to %q: the patch must not set it", before.GetAnnotations()[HashAnnotation], got)
		}
		if !appliedBy(live, patchManager) || !appliedBy(live, FieldManager) {
			t.Errorf("managers %v; want both %s and %s", managers(live), FieldManager, patchManager)
		}
	})
	t.Run("patching again changes nothing", func(t *testing.T) {
		res, err := c.mgr.Patch(t.Context(), c.objects(t, "patch.yaml", patchYAML), opts)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]string{"Deployment/" + c.ns + "/web unchanged"}, refs(res.ChangeSet)); diff != "" {
			t.Errorf("change set (-want +got):\n%s", diff)
		}
	})
	t.Run("re-applying the whole object keeps the patch", func(t *testing.T) {
		changed := c.objects(t, "base.yaml", strings.Replace(patchBaseYAML, "nginx:1.27", "nginx:1.28", 1))
		res, err := c.mgr.Apply(t.Context(), changed, ApplyOptions{DefaultNamespace: c.ns, Inventory: &applied.Inventory})
		if err != nil {
			t.Fatal(err)
		}
		if n := res.ChangeSet.Count(Configured); n != 1 {
			t.Fatalf("the whole object was not applied again:\n%s", res.ChangeSet)
		}
		live := c.get(t, deployments, c.ns, "web")
		if diff := cmp.Diff([]string{"data", "extra"}, mountNames(t, live, "web")); diff != "" {
			t.Errorf("mounts (-want +got):\n%s", diff)
		}
		before = live
	})
	t.Run("unpatch removes the patch's fields and nothing else", func(t *testing.T) {
		res, err := c.mgr.Unpatch(t.Context(), patched.Inventory, opts)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]string{"Deployment/" + c.ns + "/web configured"}, refs(res.ChangeSet)); diff != "" {
			t.Errorf("change set (-want +got):\n%s", diff)
		}
		live := c.get(t, deployments, c.ns, "web")
		if appliedBy(live, patchManager) {
			t.Errorf("managers %v still list %s", managers(live), patchManager)
		}
		want := before.DeepCopy()
		wantVolumes, _, _ := unstructured.NestedSlice(before.Object, "spec", "template", "spec", "volumes")
		_ = unstructured.SetNestedSlice(want.Object, wantVolumes[:1], "spec", "template", "spec", "volumes")
		containers, _, _ := unstructured.NestedSlice(want.Object, "spec", "template", "spec", "containers")
		web := containers[0].(map[string]any)
		web["volumeMounts"] = web["volumeMounts"].([]any)[:1]
		_ = unstructured.SetNestedSlice(want.Object, containers, "spec", "template", "spec", "containers")
		if diff := cmp.Diff(want.Object["spec"], live.Object["spec"]); diff != "" {
			t.Errorf("spec after unpatch (-before the patch +now):\n%s", diff)
		}
		if diff := cmp.Diff(before.GetLabels(), live.GetLabels()); diff != "" {
			t.Errorf("a label both managers set was removed (-want +got):\n%s", diff)
		}
	})
	t.Run("unpatching again changes nothing", func(t *testing.T) {
		gen := c.get(t, deployments, c.ns, "web").GetGeneration()
		res, err := c.mgr.Unpatch(t.Context(), patched.Inventory, opts)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]string{"Deployment/" + c.ns + "/web unchanged"}, refs(res.ChangeSet)); diff != "" {
			t.Errorf("change set (-want +got):\n%s", diff)
		}
		if got := c.get(t, deployments, c.ns, "web").GetGeneration(); got != gen {
			t.Errorf("generation %d -> %d", gen, got)
		}
	})
	t.Run("a patch of a missing object fails naming it and creates nothing", func(t *testing.T) {
		missing := c.objects(t, "patch.yaml", strings.Replace(patchYAML, "name: web, namespace", "name: ghost, namespace", 1))
		_, err := c.mgr.Patch(t.Context(), missing, opts)
		mustContain(t, err, "Deployment/"+c.ns+"/ghost", "does not exist")
		if !failure.IsInvalid(err) {
			t.Errorf("not classified invalid: %v", err)
		}
		if c.get(t, deployments, c.ns, "ghost") != nil {
			t.Error("the patch created Deployment ghost")
		}
	})
	t.Run("unpatching an object that is gone is done", func(t *testing.T) {
		inv := Inventory{Entries: []InventoryEntry{{Group: "apps", Version: "v1", Kind: "Deployment", Namespace: c.ns, Name: "ghost"}}}
		res, err := c.mgr.Unpatch(t.Context(), inv, opts)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]string{"Deployment/" + c.ns + "/ghost skipped"}, refs(res.ChangeSet)); diff != "" || len(res.Inventory.Entries) != 0 {
			t.Errorf("change set (-want +got):\n%s\nleft: %v", diff, res.Inventory)
		}
	})
}

func TestPatchOptions(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts PatchOptions
		want string
	}{
		{"a field manager is required", PatchOptions{}, "field manager: not set"},
		{"chaosops' own manager is refused", PatchOptions{FieldManager: FieldManager}, "would remove their other fields"},
		{"a manager name over 128 characters is refused", PatchOptions{FieldManager: strings.Repeat("m", 129)}, "at most 128"},
		{"a negative timeout is refused", PatchOptions{FieldManager: "x", Timeout: -1}, "timeout: -1ns is negative"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.opts.withDefaults()
			mustContain(t, err, tc.want)
			if !failure.IsInvalid(err) {
				t.Errorf("not classified invalid: %v", err)
			}
		})
	}
}

// names lists the name fields of the list at path.
func names(t *testing.T, obj *unstructured.Unstructured, path ...string) []string {
	t.Helper()
	list, _, err := unstructured.NestedSlice(obj.Object, path...)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, v := range list {
		m, _ := v.(map[string]any)
		s, _ := m["name"].(string)
		out = append(out, s)
	}
	return out
}

// mountNames lists the volume names mounted into container.
func mountNames(t *testing.T, obj *unstructured.Unstructured, container string) []string {
	t.Helper()
	list, _, _ := unstructured.NestedSlice(obj.Object, "spec", "template", "spec", "containers")
	for _, v := range list {
		m, _ := v.(map[string]any)
		if m["name"] == container {
			return names(t, &unstructured.Unstructured{Object: m}, "volumeMounts")
		}
	}
	t.Fatalf("no container %s", container)
	return nil
}

func managers(obj *unstructured.Unstructured) []string {
	var out []string
	for _, mf := range obj.GetManagedFields() {
		out = append(out, mf.Manager+"/"+string(mf.Operation))
	}
	return out
}
