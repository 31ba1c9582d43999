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
// implementations. It decides the next phase of a record, honouring the
// knobs, remembers when slow injections started and, for HTTPChaos records
// of pods annotated with FaultProxyAnnotation, where their fault proxy
// rules were put. Its maps are keyed by object UID + "/" + record id.
type injector struct {
	mu      sync.Mutex
	waits   map[string]time.Time
	proxies map[string]string // admin URL of the fault proxy holding the rule
}

// apply is one injection attempt on rec. It fails when the knobs say so,
// when the pod is gone, when a fault would need chaos-daemon in a pod that
// is not Running, or when the pod's fault proxy does not take the rule.
// With an injection delay the record first enters PhaseWaitInjected; wait
// says how long until the next attempt completes it.
func (c *controller) apply(ctx context.Context, obj *api.Object, kn knobs, rec *api.Record) (phase api.Phase, wait time.Duration, err error) {
	if kn.failInjection != "" {
		return rec.Phase, 0, errors.New(kn.failInjection)
	}
	pod, err := c.checkPod(ctx, obj, rec.Id)
	if err != nil {
		return rec.Phase, 0, err
	}
	wk := string(obj.UID) + "/" + rec.Id
	if remaining := c.inj.remaining(wk, rec.Phase == PhaseWaitInjected, c.now(), kn.injectionDelay); remaining > 0 {
		return PhaseWaitInjected, remaining, nil
	}
	// Like chaos-daemon, the fault is in place before the record says
	// Injected.
	if err := c.putFaultRule(ctx, obj, pod, wk); err != nil {
		return rec.Phase, 0, err
	}
	c.inj.mu.Lock()
	delete(c.inj.waits, wk)
	c.inj.mu.Unlock()
	return api.PhaseInjected, 0, nil
}

// remaining starts or continues the slow injection wk and returns how long
// it still has to wait (0: no delay, or the delay is over).
func (in *injector) remaining(wk string, waiting bool, now time.Time, delay time.Duration) time.Duration {
	if delay <= 0 {
		return 0
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	start, ok := in.waits[wk]
	if !waiting || !ok {
		start = now
		in.waits[wk] = start
	}
	return max(start.Add(delay).Sub(now), 0)
}

// recover is one recovery attempt on rec: it deletes the record's fault
// proxy rule, if any. Like Chaos Mesh's implementations, a vanished pod
// counts as recovered.
func (c *controller) recover(ctx context.Context, obj *api.Object, kn knobs, rec *api.Record) (api.Phase, error) {
	if kn.failRecovery != "" {
		return rec.Phase, errors.New(kn.failRecovery)
	}
	wk := string(obj.UID) + "/" + rec.Id
	if err := c.deleteFaultRule(ctx, obj, rec.Id, wk); err != nil {
		return rec.Phase, err
	}
	c.inj.mu.Lock()
	delete(c.inj.waits, wk)
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

// checkPod returns the pod of record id; it fails when the pod is gone, or
// is not Running when the fault needs chaos-daemon.
func (c *controller) checkPod(ctx context.Context, obj *api.Object, id string) (*corev1.Pod, error) {
	pod, err := c.recordPod(ctx, id)
	if err != nil {
		return nil, err
	}
	if needsDaemon(obj) && pod.Status.Phase != corev1.PodRunning {
		return nil, fmt.Errorf("pod %s/%s is %s, not Running: chaos-daemon cannot inject into its containers", pod.Namespace, pod.Name, pod.Status.Phase)
	}
	return pod, nil
}

// recordPod reads the pod of record id ("namespace/pod[/container]").
func (c *controller) recordPod(ctx context.Context, id string) (*corev1.Pod, error) {
	parts := strings.SplitN(id, "/", 3)
	if len(parts) < 2 {
		return nil, fmt.Errorf("record id %q is not namespace/pod", id)
	}
	return c.kube.CoreV1().Pods(parts[0]).Get(ctx, parts[1], metav1.GetOptions{})
}
