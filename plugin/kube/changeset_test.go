package kube

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestChangeSet(t *testing.T) {
	cs := ChangeSet{Entries: []ChangeSetEntry{
		{Ref: "Namespace/demo", Action: Created},
		{Ref: "Service/demo/web", Action: Configured, Status: map[string]string{"clusterIP": "10.96.0.9", "address": "203.0.113.7"}},
		{Ref: "ConfigMap/demo/a", Action: Unchanged},
		{Ref: "ConfigMap/demo/old", Action: Skipped, Message: "not deleted: field manager \"chaosops\" did not apply it"},
	}}
	t.Run("each entry renders as one line beginning with its ref", func(t *testing.T) {
		want := "Namespace/demo created\n" +
			"Service/demo/web configured address=203.0.113.7 clusterIP=10.96.0.9\n" +
			"ConfigMap/demo/a unchanged\n" +
			"ConfigMap/demo/old skipped: not deleted: field manager \"chaosops\" did not apply it"
		if diff := cmp.Diff(want, cs.String()); diff != "" {
			t.Errorf("String (-want +got):\n%s", diff)
		}
	})
	t.Run("the summary counts each action", func(t *testing.T) {
		if got, want := cs.Summary(), "1 created, 1 configured, 1 unchanged, 1 skipped"; got != want {
			t.Errorf("Summary = %q, want %q", got, want)
		}
		if got := (ChangeSet{}).Summary(); got != "no objects" {
			t.Errorf("empty Summary = %q", got)
		}
	})
}
