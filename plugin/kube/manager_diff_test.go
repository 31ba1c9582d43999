package kube

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestDiff(t *testing.T) {
	c := newCluster(t)
	objs := c.objects(t, "app.yaml", appYAML)

	t.Run("new objects are shown in full as created", func(t *testing.T) {
		res, err := c.mgr.Diff(t.Context(), objs, DiffOptions{DefaultNamespace: c.ns})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Entries) != 4 || !res.Changed() {
			t.Fatalf("entries = %+v", res.Entries)
		}
		d := res.Entries[3].Diff
		if res.Entries[3].Action != Created || !strings.Contains(d, "+kind: Deployment") || !strings.Contains(d, "+    image: nginx:1.27") && !strings.Contains(d, "image: nginx:1.27") {
			t.Errorf("Deployment entry = %+v", res.Entries[3])
		}
		if strings.Contains(res.String(), "hunter2") || strings.Contains(res.String(), "aHVudGVyMg==") {
			t.Errorf("the Secret's value is shown:\n%s", res)
		}
	})

	if _, err := c.mgr.Apply(t.Context(), objs, ApplyOptions{DefaultNamespace: c.ns}); err != nil {
		t.Fatal(err)
	}
	t.Run("applied objects show no difference", func(t *testing.T) {
		res, err := c.mgr.Diff(t.Context(), objs, DiffOptions{DefaultNamespace: c.ns})
		if err != nil {
			t.Fatal(err)
		}
		if res.Changed() {
			t.Errorf("changes reported:\n%s", res)
		}
	})
	t.Run("a change shows only the changed lines without server noise", func(t *testing.T) {
		changed := strings.Replace(strings.Replace(appYAML, "mode: calm", "mode: chaos", 1), "hunter2", "swordfish", 1)
		res, err := c.mgr.Diff(t.Context(), c.objects(t, "app.yaml", changed), DiffOptions{DefaultNamespace: c.ns})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, e := range res.Entries {
			got = append(got, e.Ref+" "+string(e.Action))
		}
		want := []string{
			"ConfigMap/" + c.ns + "/settings configured",
			"Secret/" + c.ns + "/creds configured",
			"Service/" + c.ns + "/web unchanged",
			"Deployment/" + c.ns + "/web unchanged",
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("actions (-want +got):\n%s", diff)
		}
		cm := res.Entries[0].Diff
		for _, line := range []string{"-  mode: calm", "+  mode: chaos"} {
			if !strings.Contains(cm, line) {
				t.Errorf("ConfigMap diff lacks %q:\n%s", line, cm)
			}
		}
		for _, noise := range []string{"resourceVersion", "managedFields", "uid:", "creationTimestamp", HashAnnotation} {
			if strings.Contains(res.String(), noise) {
				t.Errorf("diff shows %q:\n%s", noise, res)
			}
		}
		sec := res.Entries[1].Diff
		if !strings.Contains(sec, "-  password: '*** (before)'") || !strings.Contains(sec, "+  password: '*** (after)'") || strings.Contains(sec, "c3dvcmRmaXNo") {
			t.Errorf("Secret diff:\n%s", sec)
		}
	})
}

func TestCleanForDiff(t *testing.T) {
	t.Run("server-set metadata, status and our hash are left out", func(t *testing.T) {
		obj := mustObject(t, `apiVersion: v1
kind: ConfigMap
metadata:
  name: c
  namespace: demo
  uid: 1234
  resourceVersion: "99"
  generation: 3
  creationTimestamp: "2026-01-01T00:00:00Z"
  managedFields: [{manager: chaosops}]
  annotations: {chaosops.io/apply-hash: abc}
  labels: {app: c}
data: {k: v}
status: {x: y}`)
		want := "apiVersion: v1\ndata:\n  k: v\nkind: ConfigMap\nmetadata:\n  labels:\n    app: c\n  name: c\n  namespace: demo\n"
		if diff := cmp.Diff(want, toYAML(cleanForDiff(obj, nil, ""))); diff != "" {
			t.Errorf("cleaned (-want +got):\n%s", diff)
		}
	})
	t.Run("secret values never appear and changed keys are marked on both sides", func(t *testing.T) {
		live := mustObject(t, `apiVersion: v1
kind: Secret
metadata: {name: s}
data: {same: c2FtZQ==, changed: b2xk, gone: eA==}`)
		after := mustObject(t, `apiVersion: v1
kind: Secret
metadata: {name: s}
data: {same: c2FtZQ==, changed: bmV3, added: eQ==}`)
		d := unifiedDiff("live", "after", toYAML(cleanForDiff(live, after, "before")), toYAML(cleanForDiff(after, live, "after")))
		for _, secret := range []string{"c2FtZQ==", "b2xk", "bmV3", "eA==", "eQ=="} {
			if strings.Contains(d, secret) {
				t.Errorf("diff shows secret value %q:\n%s", secret, d)
			}
		}
		for _, line := range []string{"-  changed: '*** (before)'", "+  changed: '*** (after)'", "+  added: '***'", "-  gone: '***'", "   same: '***'"} {
			if !strings.Contains(d, line) {
				t.Errorf("diff lacks %q:\n%s", line, d)
			}
		}
	})
	t.Run("equal objects apart from server-set fields compare equal", func(t *testing.T) {
		a := mustObject(t, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, resourceVersion: '1'}\ndata: {k: v}")
		b := mustObject(t, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, resourceVersion: '2'}\ndata: {k: v}")
		if !equalForDiff(a, b) {
			t.Error("not equal")
		}
	})
}

func TestDiffResultString(t *testing.T) {
	r := DiffResult{Entries: []DiffEntry{
		{Ref: "ConfigMap/demo/a", Action: Unchanged},
		{Ref: "ConfigMap/demo/b", Action: Configured, Diff: "--- x\n+++ y\n"},
		{Ref: "HTTPChaos/demo/c", Action: Created, Note: "not checked", Diff: "+a\n"},
	}}
	want := "ConfigMap/demo/b configured\n--- x\n+++ y\nHTTPChaos/demo/c created (not checked)\n+a\n"
	if diff := cmp.Diff(want, r.String()); diff != "" {
		t.Errorf("String (-want +got):\n%s", diff)
	}
	if !r.Changed() {
		t.Error("Changed = false")
	}
}
