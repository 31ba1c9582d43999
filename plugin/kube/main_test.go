package kube

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/cloudify-chaos/chaosops/plugin/internal/testenv"
	"github.com/cloudify-chaos/chaosops/plugin/kube/manifest"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/util/retry"
)

// TestMain starts (or reuses) the shared control plane of
// scripts/testenv.sh; with -short only the unit tests run.
func TestMain(m *testing.M) { testenv.Main(m) }

// cluster is what an integration test works with.
type cluster struct {
	client *Client
	mgr    *Manager
	ns     string
}

// newCluster connects to the test control plane and makes a namespace for t.
func newCluster(t *testing.T) *cluster {
	t.Helper()
	cfg := testenv.Config(t)
	c, err := NewClient(cfg, ConnOptions{})
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
	return &cluster{client: c, mgr: NewManager(c, log), ns: testenv.Namespace(t, cfg)}
}

// objects parses YAML written with {{.ns}} for the test's namespace.
func (c *cluster) objects(t *testing.T, name, text string) []manifest.Object {
	t.Helper()
	objs, err := manifest.Parse(name, []byte(text), map[string]any{"ns": c.ns})
	if err != nil {
		t.Fatal(err)
	}
	return objs
}

// update changes an object as another field manager would (kubectl edit),
// retrying when a controller wrote to it in between.
func (c *cluster) update(t *testing.T, gvr schema.GroupVersionResource, ns, name string, mutate func(*unstructured.Unstructured)) {
	t.Helper()
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		obj := c.get(t, gvr, ns, name)
		mutate(obj)
		var err error
		if ns == "" {
			_, err = c.client.Dynamic.Resource(gvr).Update(t.Context(), obj, metav1.UpdateOptions{FieldManager: "kubectl-edit"})
		} else {
			_, err = c.client.Dynamic.Resource(gvr).Namespace(ns).Update(t.Context(), obj, metav1.UpdateOptions{FieldManager: "kubectl-edit"})
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// get reads an object; nil when it does not exist.
func (c *cluster) get(t *testing.T, gvr schema.GroupVersionResource, ns, name string) *unstructured.Unstructured {
	t.Helper()
	r := c.client.Dynamic.Resource(gvr)
	var obj *unstructured.Unstructured
	var err error
	if ns == "" {
		obj, err = r.Get(t.Context(), name, metav1.GetOptions{})
	} else {
		obj, err = r.Namespace(ns).Get(t.Context(), name, metav1.GetOptions{})
	}
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return obj
}

var (
	configMaps  = schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}
	deployments = schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}
	crds        = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}
)

// widgetCRD returns a CustomResourceDefinition of kind Widget in a group
// unique to the test, and deletes it when the test ends.
func (c *cluster) widgetCRD(t *testing.T) (text, group string) {
	t.Helper()
	group = fmt.Sprintf("t%06d.chaosops.test", rand.IntN(1000000))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(t.Context()), 30*time.Second)
		defer cancel()
		err := c.client.Dynamic.Resource(crds).Delete(ctx, "widgets."+group, metav1.DeleteOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			t.Errorf("cleanup: %v", err)
		}
	})
	return fmt.Sprintf(`apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.%[1]s
spec:
  group: %[1]s
  scope: Namespaced
  names: {kind: Widget, listKind: WidgetList, plural: widgets, singular: widget}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              size: {type: integer}
`, group), group
}

// refs lists "Ref action" of a change set, for comparisons.
func refs(cs ChangeSet) []string {
	var out []string
	for _, e := range cs.Entries {
		out = append(out, e.Ref+" "+string(e.Action))
	}
	return out
}

// mustContain fails t when err is nil or lacks any of want.
func mustContain(t *testing.T, err error, want ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error; want one containing %q", want)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not contain %q", err, w)
		}
	}
}
