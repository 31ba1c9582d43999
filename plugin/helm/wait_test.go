package helm

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// unschedulable keeps the Deployment's pods Pending: no node matches.
var unschedulable = map[string]any{"nodeSelector": map[string]any{"chaosops.dev/no-such-node": "true"}}

func TestInstallWait(t *testing.T) {
	t.Run("wait returns once the Deployment is available", func(t *testing.T) {
		c := newCluster(t)
		r := c.release(map[string]any{"replicas": 2})
		r.Wait = true
		st := c.install(t, r)
		if st.Status != "deployed" {
			t.Fatalf("status %+v", st)
		}
		d, err := c.cs.AppsV1().Deployments(c.ns).Get(t.Context(), "demo-web", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if d.Status.AvailableReplicas != 2 {
			t.Errorf("available replicas %d right after the wait, want 2", d.Status.AvailableReplicas)
		}
	})
	t.Run("a wait that runs out of time is NotReady and names the Deployment", func(t *testing.T) {
		c := newCluster(t)
		r := c.release(unschedulable)
		r.Wait, r.Timeout = true, 3*time.Second
		st, err := Install(t.Context(), c.cfg, r, c.log)
		var nr *NotReadyError
		if !errors.As(err, &nr) || !strings.Contains(err.Error(), "Deployment/"+c.ns+"/demo-web") {
			t.Fatalf("error %v, want NotReady naming the Deployment", err)
		}
		if st == nil || st.Status != "failed" {
			t.Errorf("status %+v, want failed", st)
		}
	})
	for _, tc := range []struct {
		name string
		// before makes the revisions that exist when the cancelled run starts.
		before       int
		wantRevision int
	}{
		{"of an install", 0, 2},
		{"of an upgrade", 1, 3},
	} {
		t.Run("cancel stops the wait "+tc.name+" at once, and the next run converges", func(t *testing.T) {
			c := newCluster(t)
			for range tc.before {
				c.install(t, c.release(nil))
			}
			r := c.release(unschedulable)
			r.Wait, r.Timeout = true, 5*time.Minute
			ctx, cancel := context.WithCancel(t.Context())
			time.AfterFunc(3*time.Second, cancel)
			start := time.Now()
			_, err := Install(ctx, c.cfg, r, c.log)
			if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "interrupted") {
				t.Fatalf("error %v, want interrupted by the cancel", err)
			}
			if d := time.Since(start); d > 20*time.Second {
				t.Errorf("Install returned %s after the start, not at the cancel", d)
			}
			st, err := Get(t.Context(), c.cfg, "demo", c.ns, c.log)
			if err != nil || st.Status != "failed" || st.Revision != tc.before+1 {
				t.Fatalf("release after cancel: %+v, %v; want revision %d failed", st, err, tc.before+1)
			}
			r = c.release(nil)
			r.Wait = true
			st = c.install(t, r)
			if st.Status != "deployed" || st.Revision != tc.wantRevision {
				t.Errorf("status %+v, want revision %d deployed", st, tc.wantRevision)
			}
		})
	}
}
