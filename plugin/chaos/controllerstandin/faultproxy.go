package controllerstandin

import (
	"context"
	"errors"
	"fmt"
	"syscall"

	"github.com/cloudify-chaos/chaosops/plugin/chaos/api"
	"github.com/cloudify-chaos/chaosops/plugin/chaos/faultproxy"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

// FaultProxyAnnotation on a pod names the admin URL of the fault proxy
// (package faultproxy, a STAND-IN for chaos-daemon's HTTP fault injection)
// that fronts the pod's app, e.g. "http://127.0.0.1:19080". An HTTPChaos
// record of such a pod is injected by putting the spec's rule there and
// recovered by deleting it, so that the fault is real for the traffic
// through the proxy. Not a Chaos Mesh feature; pods without it get no
// fault, only status.
const FaultProxyAnnotation = "standin.chaosops.dev/fault-proxy"

// FaultRuleID is the id of obj's rule at a fault proxy:
// "namespace/name/uid". Pods of one experiment that share a proxy share
// the rule.
func FaultRuleID(obj *api.Object) string {
	return obj.Namespace + "/" + obj.Name + "/" + string(obj.UID)
}

// putFaultRule puts obj's rule to the fault proxy named by pod's
// annotation, for HTTPChaos only, and remembers the proxy under wk so that
// recovery finds it even when the pod is gone. Failing to reach the proxy
// fails the injection, as a chaos-daemon failure would.
func (c *controller) putFaultRule(ctx context.Context, obj *api.Object, pod *corev1.Pod, wk string) error {
	spec, ok := api.SpecAs[*api.HTTPChaosSpec](obj)
	adminURL := pod.Annotations[FaultProxyAnnotation]
	if !ok || adminURL == "" {
		return nil
	}
	admin, err := faultproxy.NewAdminClient(adminURL)
	if err != nil {
		return fmt.Errorf("pod %s/%s: annotation %s: %w", pod.Namespace, pod.Name, FaultProxyAnnotation, err)
	}
	rule, err := faultproxy.RuleFromHTTPChaos(spec)
	if err != nil {
		return fmt.Errorf("fault proxy %s: %w", adminURL, err)
	}
	// Remembered first, so that a rule put just before a failed answer is
	// still deleted on recovery.
	c.inj.mu.Lock()
	c.inj.proxies[wk] = adminURL
	c.inj.mu.Unlock()
	if err := admin.Put(ctx, FaultRuleID(obj), rule); err != nil {
		return err
	}
	c.log.Info("fault proxy rule put", "ref", objectKey(obj).ref(), "pod", pod.Namespace+"/"+pod.Name, "proxy", adminURL)
	return nil
}

// deleteFaultRule deletes the rule of record id of obj from the proxy it
// was put to (or, after a restart of the stand-in, the proxy the pod names
// now). A proxy without the rule, or not running at all, holds no fault:
// both count as recovered.
func (c *controller) deleteFaultRule(ctx context.Context, obj *api.Object, id, wk string) error {
	if _, ok := api.SpecAs[*api.HTTPChaosSpec](obj); !ok {
		return nil
	}
	c.inj.mu.Lock()
	adminURL := c.inj.proxies[wk]
	c.inj.mu.Unlock()
	if adminURL == "" {
		pod, err := c.recordPod(ctx, id)
		if apierrors.IsNotFound(err) {
			return nil
		}
		if err != nil {
			return err
		}
		if adminURL = pod.Annotations[FaultProxyAnnotation]; adminURL == "" {
			return nil
		}
	}
	admin, err := faultproxy.NewAdminClient(adminURL)
	if err != nil {
		return fmt.Errorf("record %s: annotation %s: %w", id, FaultProxyAnnotation, err)
	}
	existed, err := admin.Delete(ctx, FaultRuleID(obj))
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		// Rules live in the proxy's memory: a stopped proxy holds none.
		c.log.Info("fault proxy not running; its rule is gone", "ref", objectKey(obj).ref(), "record", id, "proxy", adminURL)
	case err != nil:
		return err
	default:
		c.log.Info("fault proxy rule deleted", "ref", objectKey(obj).ref(), "record", id, "proxy", adminURL, "existed", existed)
	}
	c.inj.mu.Lock()
	delete(c.inj.proxies, wk)
	c.inj.mu.Unlock()
	return nil
}

func objectKey(obj *api.Object) key {
	return key{kind: obj.Kind, namespace: obj.Namespace, name: obj.Name}
}
