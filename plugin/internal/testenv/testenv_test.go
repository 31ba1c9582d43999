package testenv_test

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	"github.com/cloudify-chaos/chaosops/plugin/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

func TestControlPlane(t *testing.T) {
	cfg := testenv.Config(t)
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("a Deployment of 3 replicas gets 3 Running pods on the kwok node", func(t *testing.T) {
		ns := testenv.Namespace(t, cfg)
		labels := map[string]string{"app": "demo"}
		_, err := cs.AppsV1().Deployments(ns).Create(t.Context(), &appsv1.Deployment{
			ObjectMeta: metav1.ObjectMeta{Name: "demo"},
			Spec: appsv1.DeploymentSpec{
				Replicas: ptr.To[int32](3),
				Selector: &metav1.LabelSelector{MatchLabels: labels},
				Template: corev1.PodTemplateSpec{
					ObjectMeta: metav1.ObjectMeta{Labels: labels},
					Spec: corev1.PodSpec{Containers: []corev1.Container{{
						Name:  "demo",
						Image: "registry.invalid/demo:1", // kwok never pulls it
					}}},
				},
			},
		}, metav1.CreateOptions{})
		if err != nil {
			t.Fatalf("Deployment/%s/demo: create: %v", ns, err)
		}

		var pods *corev1.PodList
		err = wait.PollUntilContextTimeout(t.Context(), 100*time.Millisecond, 30*time.Second, true,
			func(ctx context.Context) (bool, error) {
				pods, err = cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "app=demo"})
				if err != nil {
					return false, err
				}
				running := 0
				for _, p := range pods.Items {
					if p.Status.Phase == corev1.PodRunning && p.Spec.NodeName == "kwok-node-0" {
						running++
					}
				}
				return running == 3, nil
			})
		if err != nil {
			for _, p := range pods.Items {
				t.Logf("Pod/%s/%s: phase %s on node %q", ns, p.Name, p.Status.Phase, p.Spec.NodeName)
			}
			t.Fatalf("Deployment/%s/demo: 3 Running pods: %v", ns, err)
		}

		err = wait.PollUntilContextTimeout(t.Context(), 100*time.Millisecond, 30*time.Second, true,
			func(ctx context.Context) (bool, error) {
				d, err := cs.AppsV1().Deployments(ns).Get(ctx, "demo", metav1.GetOptions{})
				if err != nil {
					return false, err
				}
				return d.Status.ObservedGeneration == d.Generation && d.Status.AvailableReplicas == 3, nil
			})
		if err != nil {
			t.Fatalf("Deployment/%s/demo: 3 available replicas: %v", ns, err)
		}
	})

	t.Run("the pinned Chaos Mesh and ServiceMonitor CRDs are served", func(t *testing.T) {
		for gv, kinds := range map[string][]string{
			"chaos-mesh.org/v1alpha1":  {"PodChaos", "NetworkChaos", "HTTPChaos", "Schedule"},
			"monitoring.coreos.com/v1": {"ServiceMonitor"},
		} {
			list, err := cs.Discovery().ServerResourcesForGroupVersion(gv)
			if err != nil {
				t.Fatalf("discovery %s: %v", gv, err)
			}
			served := map[string]bool{}
			for _, r := range list.APIResources {
				served[r.Kind] = true
			}
			for _, k := range kinds {
				if !served[k] {
					t.Errorf("%s/%s is not served", gv, k)
				}
			}
		}
	})

	t.Run("a test namespace is gone after its test ends", func(t *testing.T) {
		var ns string
		t.Run("inner", func(t *testing.T) { ns = testenv.Namespace(t, cfg) })
		// Deletion is asynchronous (the namespace controller empties it
		// first), so a namespace that is still there must be terminating.
		n, err := cs.CoreV1().Namespaces().Get(t.Context(), ns, metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err):
		case err != nil:
			t.Fatalf("Namespace/%s: get: %v", ns, err)
		case n.DeletionTimestamp == nil:
			t.Errorf("Namespace/%s still exists and is not being deleted", ns)
		}
	})
}

func TestKubectl(t *testing.T) {
	t.Run("the control plane's kubectl reaches it with the admin kubeconfig, TLS verified", func(t *testing.T) {
		out, err := exec.CommandContext(t.Context(), testenv.Kubectl(t),
			"--kubeconfig", testenv.Kubeconfig(t), "get", "--raw", "/readyz").CombinedOutput()
		if err != nil {
			t.Fatalf("kubectl get --raw /readyz: %v\n%s", err, out)
		}
		if got := strings.TrimSpace(string(out)); got != "ok" {
			t.Errorf("/readyz = %q, want ok", got)
		}
	})
}
