package chaos_test

import (
	"strings"
	"testing"
	"time"

	"github.com/cloudify-chaos/chaosops/plugin/internal/standin/chaosdaemon"
	"github.com/cloudify-chaos/chaosops/plugin/progress"
)

// TestWaitProgress checks that the waits on the chaos object say what
// they wait for: the conditions, the targets not in the wanted phase yet,
// and the time left.
func TestWaitProgress(t *testing.T) {
	tests := []struct {
		name string
		knob string
		want []string
	}{
		{"an injection that keeps failing names the wait, the conditions and the targets not injected",
			chaosdaemon.FailAnnotation,
			[]string{"wait for every target to be injected (injection_timeout): still waiting", "conditions Selected=", "AllInjected=False", "/demo-", "left"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			f.knob(t, tt.knob, "tproxy exploded")
			o := f.opts(f.httpAbort(t))
			o.InjectionTimeout, o.DeleteTimeout = 3*time.Second, 5*time.Second
			ctx := progress.WithInterval(t.Context(), 100*time.Millisecond)
			if _, err := f.r.Run(ctx, o); err == nil {
				t.Fatal("the run succeeded; want the injection to fail")
			}
			var line string
			for _, l := range strings.Split(f.logs.String(), "\n") {
				if strings.Contains(l, "injection_timeout): still waiting") && strings.Contains(l, "/demo-") {
					line = l
					break
				}
			}
			for _, want := range tt.want {
				if !strings.Contains(line, want) {
					t.Errorf("no progress line says %q; line: %q", want, line)
				}
			}
		})
	}
}
