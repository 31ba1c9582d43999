package controllerstandin

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/cloudify-chaos/chaosops/plugin/chaos/api"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// injector stands in for chaos-daemon and Chaos Mesh's per-kind
// implementations. It injects no fault: it only decides the next phase of a
// record, honouring the knobs, and remembers when slow injections started.
type injector struct {
	mu    sync.Mutex
	waits map[string]time.Time // object UID + "/" + record id
}

// apply is one injection attempt on rec. It fails when the knobs say so,
// when the pod is gone, or when a fault would need chaos-daemon in a pod
// that is not Running. With an injection delay the record first enters
// PhaseWaitInjected; wait says how long until the next attempt completes it.
func (c *controller) apply(ctx context.Context, obj *api.Object, kn knobs, rec *api.Record) (phase api.Phase, wait time.Duration, err error) {
	if kn.failInjection != "" {
		return rec.Phase, 0, errors.New(kn.failInjection)
	}
	if err := c.checkPod(ctx, obj, rec.Id); err != nil {
		return rec.Phase, 0, err
	}
	if kn.injectionDelay <= 0 {
		return api.PhaseInjected, 0, nil
	}
	now := c.now()
	wk := string(obj.UID) + "/" + rec.Id
	c.inj.mu.Lock()
	defer c.inj.mu.Unlock()
	start, ok := c.inj.waits[wk]
	if rec.Phase != PhaseWaitInjected || !ok {
		start = now
		c.inj.waits[wk] = start
	}
	if remaining := start.Add(kn.injectionDelay).Sub(now); remaining > 0 {
		return PhaseWaitInjected, remaining, nil
	}
	delete(c.inj.waits, wk)
	return api.PhaseInjected, 0, nil
}

// recover is one recovery attempt on rec. Like Chaos Mesh's
// implementations, a vanished pod counts as recovered.
func (c *controller) recover(obj *api.Object, kn knobs, rec *api.Record) (api.Phase, error) {
	if kn.failRecovery != "" {
		return rec.Phase, errors.New(kn.failRecovery)
	}
	c.inj.mu.Lock()
	delete(c.inj.waits, string(obj.UID)+"/"+rec.Id)
	c.inj.mu.Unlock()
	return api.PhaseNotInjected, nil
}

// needsDaemon reports whether obj's fault would be injected by chaos-daemon
// inside the pod's containers (all but PodChaos pod-kill and pod-failure,
// which act through the API server).
func needsDaemon(obj *api.Object) bool {
	s, ok := api.SpecAs[*api.PodChaosSpec](obj)
	return !ok || s.Action == api.ContainerKill
}

// checkPod fails when the pod of record id is gone, or is not Running when
// the fault needs chaos-daemon.
func (c *controller) checkPod(ctx context.Context, obj *api.Object, id string) error {
	parts := strings.SplitN(id, "/", 3)
	if len(parts) < 2 {
		return fmt.Errorf("record id %q is not namespace/pod", id)
	}
	pod, err := c.kube.CoreV1().Pods(parts[0]).Get(ctx, parts[1], metav1.GetOptions{})
	if err != nil {
		return err
	}
	if needsDaemon(obj) && pod.Status.Phase != corev1.PodRunning {
		return fmt.Errorf("pod %s/%s is %s, not Running: chaos-daemon cannot inject into its containers", pod.Namespace, pod.Name, pod.Status.Phase)
	}
	return nil
}
