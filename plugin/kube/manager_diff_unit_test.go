package kube

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

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
