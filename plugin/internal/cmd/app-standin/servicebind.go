package main

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"

	"github.com/cloudify-chaos/chaosops/plugin/internal/standin/chaosdaemon"
)

// bindPoll is how often the binder looks for a new Service or pods; the
// demo creates both during its install.
const bindPoll = 300 * time.Millisecond

// binder is the cluster side of the service stand-in: it publishes the
// LoadBalancer ingress a cloud would, and binds each simulated (kwok) pod
// behind the Service to one local app process by annotating the pod with
// the admin URL of that process's fault proxy, so HTTPChaos on the pod is
// injected into real traffic.
type binder struct {
	kube      kubernetes.Interface
	namespace string
	service   string
	ingressIP string
	proxies   []string // admin URLs, one per backend
	log       *slog.Logger
}

// run binds until ctx ends; API errors are logged and retried, since the
// namespace and Service appear only once the install created them.
func (b *binder) run(ctx context.Context) {
	tick := time.NewTicker(bindPoll)
	defer tick.Stop()
	for {
		if err := b.pass(ctx); err != nil && ctx.Err() == nil {
			b.log.Debug("service stand-in: " + err.Error())
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

func (b *binder) pass(ctx context.Context) error {
	svc, err := b.kube.CoreV1().Services(b.namespace).Get(ctx, b.service, metav1.GetOptions{})
	if err != nil {
		return fmt.Errorf("Service/%s/%s: %w", b.namespace, b.service, err)
	}
	if svc.Spec.Type == corev1.ServiceTypeLoadBalancer && len(svc.Status.LoadBalancer.Ingress) == 0 {
		svc.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: b.ingressIP}}
		if _, err := b.kube.CoreV1().Services(b.namespace).UpdateStatus(ctx, svc, metav1.UpdateOptions{}); err != nil {
			return fmt.Errorf("publish ingress: %w", err)
		}
		b.log.Info("service stand-in: published ingress", "service", b.namespace+"/"+b.service, "ip", b.ingressIP)
	}
	if len(svc.Spec.Selector) == 0 {
		return nil
	}
	pods, err := b.kube.CoreV1().Pods(b.namespace).List(ctx, metav1.ListOptions{LabelSelector: labels.SelectorFromSet(svc.Spec.Selector).String()})
	if err != nil {
		return fmt.Errorf("pods: %w", err)
	}
	for _, p := range assign(pods.Items, b.proxies) {
		patch := fmt.Sprintf(`{"metadata":{"annotations":{%q:%q}}}`, chaosdaemon.FaultProxyAnnotation, p.proxy)
		if _, err := b.kube.CoreV1().Pods(b.namespace).Patch(ctx, p.pod, types.MergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
			return fmt.Errorf("bind pod %s: %w", p.pod, err)
		}
		b.log.Info("service stand-in: pod bound to a local app process", "pod", b.namespace+"/"+p.pod, "fault_proxy", p.proxy)
	}
	return nil
}

type binding struct{ pod, proxy string }

// assign gives each live pod without a proxy one not used by another live
// pod, in name order; pods beyond the number of proxies stay unbound.
func assign(pods []corev1.Pod, proxies []string) []binding {
	used := map[string]bool{}
	var free []corev1.Pod
	for _, p := range pods {
		if p.DeletionTimestamp != nil {
			continue
		}
		if a := p.Annotations[chaosdaemon.FaultProxyAnnotation]; a != "" {
			used[a] = true
			continue
		}
		free = append(free, p)
	}
	slices.SortFunc(free, func(a, b corev1.Pod) int { return strings.Compare(a.Name, b.Name) })
	var out []binding
	for _, p := range free {
		i := slices.IndexFunc(proxies, func(u string) bool { return !used[u] })
		if i < 0 {
			break
		}
		used[proxies[i]] = true
		out = append(out, binding{p.Name, proxies[i]})
	}
	return out
}
