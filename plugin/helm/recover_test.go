package helm

import (
	"errors"
	"strings"
	"testing"
	"time"

	rcommon "helm.sh/helm/v4/pkg/release/common"
)

// setRecord rewrites the stored status and time of revision rev, as a run
// killed in the middle would have left it.
func (c *cluster) setRecord(t *testing.T, name string, rev int, st rcommon.Status, at time.Time) {
	t.Helper()
	s, err := newSession(c.cfg, c.ns, c.log)
	if err != nil {
		t.Fatal(err)
	}
	hist, err := s.history(name)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range hist {
		if r.Version == rev {
			r.Info.Status, r.Info.LastDeployed = st, at
			if err := s.ac.Releases.Update(r); err != nil {
				t.Fatal(err)
			}
			return
		}
	}
	t.Fatalf("no revision %d of %s", rev, name)
}

func TestInstallRecoversAReleaseLeftPendingByAKilledRun(t *testing.T) {
	longAgo := time.Now().Add(-time.Hour)
	for _, tc := range []struct {
		name string
		// leave makes the state a killed run leaves behind.
		leave        func(t *testing.T, c *cluster)
		wantRevision int
		wantLog      string
	}{
		{
			name: "a stale pending-install is uninstalled and installed afresh",
			leave: func(t *testing.T, c *cluster) {
				c.install(t, c.release(map[string]any{"extra": true}))
				c.setRecord(t, "demo", 1, rcommon.StatusPendingInstall, longAgo)
			},
			wantRevision: 1,
			wantLog:      "uninstalling it to install afresh",
		},
		{
			name: "a stale pending-upgrade is rolled back to the deployed revision, then upgraded",
			leave: func(t *testing.T, c *cluster) {
				c.install(t, c.release(nil))
				c.install(t, c.release(map[string]any{"extra": true, "greeting": "half"}))
				c.setRecord(t, "demo", 1, rcommon.StatusDeployed, longAgo)
				c.setRecord(t, "demo", 2, rcommon.StatusPendingUpgrade, longAgo)
			},
			wantRevision: 4, // 3 is the rollback
			wantLog:      "rolling back to revision 1",
		},
		{
			name: "an unfinished uninstall is finished, then installed afresh",
			leave: func(t *testing.T, c *cluster) {
				c.install(t, c.release(map[string]any{"extra": true}))
				c.setRecord(t, "demo", 1, rcommon.StatusUninstalling, longAgo)
			},
			wantRevision: 1,
			wantLog:      "finishing it before installing",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newCluster(t)
			tc.leave(t, c)
			st := c.install(t, c.release(map[string]any{"greeting": "whole"}))
			if st.Revision != tc.wantRevision || st.Status != "deployed" || !st.Changed {
				t.Errorf("status %+v, want revision %d deployed", st, tc.wantRevision)
			}
			if !strings.Contains(c.logs.String(), tc.wantLog) {
				t.Errorf("log lacks %q:\n%s", tc.wantLog, c.logs)
			}
			if c.configMapExists(t, "demo-extra") {
				t.Error("the object only the killed run rendered is still there")
			}
			if g := c.greeting(t, "demo"); g != "whole" {
				t.Errorf("greeting %q, want whole", g)
			}
		})
	}
	t.Run("a recent pending revision is another run's: busy, and left alone", func(t *testing.T) {
		c := newCluster(t)
		c.install(t, c.release(nil))
		c.setRecord(t, "demo", 1, rcommon.StatusPendingUpgrade, time.Now())
		_, err := Install(t.Context(), c.cfg, c.release(map[string]any{"greeting": "mine"}), c.log)
		var be *BusyError
		if !errors.As(err, &be) || !strings.Contains(err.Error(), "pending-upgrade") {
			t.Fatalf("error %v, want a BusyError", err)
		}
		st, err := Get(t.Context(), c.cfg, "demo", c.ns, c.log)
		if err != nil || st.Status != "pending-upgrade" || st.Revision != 1 {
			t.Errorf("release after: %+v, %v", st, err)
		}
		if g := c.greeting(t, "demo"); g != "hello" {
			t.Errorf("greeting %q: the busy release was changed", g)
		}
	})
}
