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
