package testenv

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// NamespaceLabel marks every namespace made by Namespace, so that leftovers
// of an interrupted run can be found:
// kubectl delete ns -l chaosops.io/testenv-namespace=true
const NamespaceLabel = "chaosops.io/testenv-namespace"

// namespaceTimeout bounds creating a namespace (until its default
// ServiceAccount exists) and deleting it.
const namespaceTimeout = 30 * time.Second

var notDNSLabel = regexp.MustCompile(`[^a-z0-9]+`)

// Namespace creates a namespace named after t (plus a random suffix) in the
// cluster of cfg, waits until its default ServiceAccount exists (pods are
// rejected before that), and deletes it when t ends. It returns the name.
func Namespace(t testing.TB, cfg *rest.Config) string {
	t.Helper()
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatalf("testenv: client: %v", err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), namespaceTimeout)
	defer cancel()

	ns, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{
		ObjectMeta: metav1.ObjectMeta{
			GenerateName: namespacePrefix(t.Name()),
			Labels:       map[string]string{NamespaceLabel: "true"},
		},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("testenv: Namespace/%s: create: %v", namespacePrefix(t.Name()), err)
	}
	name := ns.Name
	t.Cleanup(func() {
		// t.Context() is already cancelled when cleanups run.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(t.Context()), namespaceTimeout)
		defer cancel()
		err := cs.CoreV1().Namespaces().Delete(ctx, name, metav1.DeleteOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			t.Errorf("testenv: Namespace/%s: delete: %v", name, err)
		}
	})

	err = wait.PollUntilContextCancel(ctx, 50*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		_, err := cs.CoreV1().ServiceAccounts(name).Get(ctx, "default", metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return false, nil
		}
		return err == nil, err
	})
	if err != nil {
		t.Fatalf("testenv: Namespace/%s: default ServiceAccount: %v", name, err)
	}
	return name
}

// namespacePrefix turns a test name into a DNS label prefix for
// GenerateName: "TestApply/re-applying_changes_nothing" becomes
// "testapply-re-applying-changes-nothing-", at most 58 characters so that the
// 5-character random suffix fits in 63.
func namespacePrefix(testName string) string {
	p := notDNSLabel.ReplaceAllString(strings.ToLower(testName), "-")
	p = strings.Trim(p, "-")
	if len(p) > 57 {
		p = strings.TrimRight(p[:57], "-")
	}
	if p == "" {
		p = "test"
	}
	return p + "-"
}
