package kube

import (
	"context"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/cloudify-chaos/chaosops/plugin/internal/logwatch"
	"github.com/cloudify-chaos/chaosops/plugin/progress"
)

// TestWaitProgress checks that a wait that takes long says what it waits
// for: the objects not done yet, why, and the time left.
func TestWaitProgress(t *testing.T) {
	c := newCluster(t)
	held, err := c.mgr.Apply(t.Context(), c.objects(t, "held.yaml", `apiVersion: v1
kind: ConfigMap
metadata:
  name: held-progress
  finalizers: [example.com/hold]
`), ApplyOptions{DefaultNamespace: c.ns})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		patch := []byte(`{"metadata":{"finalizers":null}}`)
		_, _ = c.client.Dynamic.Resource(configMaps).Namespace(c.ns).Patch(context.WithoutCancel(t.Context()), "held-progress", types.MergePatchType, patch, metav1.PatchOptions{})
	}()
	missing := Inventory{Entries: []InventoryEntry{{Version: "v1", Kind: "ConfigMap", Namespace: c.ns, Name: "missing"}}}
	tests := []struct {
		name string
		wait func(ctx context.Context, m *Manager) error
		want []string
	}{
		{"a readiness wait names the object not found yet and the time left",
			func(ctx context.Context, m *Manager) error {
				return m.Wait(ctx, missing, WaitOptions{Timeout: time.Hour})
			},
			[]string{"wait for 1 object(s) to become ready: still waiting", "ConfigMap/" + c.ns + "/missing: NotFound", "left"}},
		{"a deletion wait names the finalizer that holds the object",
			func(ctx context.Context, m *Manager) error {
				_, err := m.Delete(ctx, DeleteOptions{Inventory: &held.Inventory, Timeout: time.Hour})
				return err
			},
			[]string{"wait for 1 object(s) to be deleted: still waiting", "ConfigMap/" + c.ns + "/held-progress: Present", "held by finalizers example.com/hold", "left"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			log, seen := logwatch.New("still waiting")
			ctx, cancel := context.WithCancel(progress.WithInterval(t.Context(), 100*time.Millisecond))
			defer cancel()
			done := make(chan error, 1)
			go func() { done <- tt.wait(ctx, NewManager(c.client, log)) }()
			var line string
			select {
			case line = <-seen:
			case err := <-done:
				t.Fatalf("the wait ended without a progress line: %v", err)
			}
			cancel()
			<-done
			for _, want := range tt.want {
				if !strings.Contains(line, want) {
					t.Errorf("progress line %q does not say %q", line, want)
				}
			}
		})
	}
}
