package chaos

import (
	"log/slog"
	"time"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"

	"github.com/cloudify-chaos/chaosops/plugin/chaos/api"
	"github.com/cloudify-chaos/chaosops/plugin/kube"
)

// Runner runs and manages chaos experiments on one cluster.
type Runner struct {
	Dynamic dynamic.Interface
	Log     *slog.Logger
	// Now is the clock; tests may replace it.
	Now func() time.Time
}

// NewRunner returns a runner on a connected client.
func NewRunner(c *kube.Client, log *slog.Logger) *Runner {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Runner{Dynamic: c.Dynamic, Log: log, Now: time.Now}
}

var (
	gvrPods        = schema.GroupVersionResource{Version: "v1", Resource: "pods"}
	gvrNamespaces  = schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}
	gvrDeployments = schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}
	gvrSA          = schema.GroupVersionResource{Version: "v1", Resource: "serviceaccounts"}
	gvrRoles       = schema.GroupVersionResource{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "roles"}
	gvrRoleBinding = schema.GroupVersionResource{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "rolebindings"}
	gvrEvents      = schema.GroupVersionResource{Version: "v1", Resource: "events"}
)

func (r *Runner) chaos(k api.Kind, ns string) dynamic.ResourceInterface {
	return r.Dynamic.Resource(k.GroupVersionResource()).Namespace(ns)
}

// ref is the one object reference format: Kind/namespace/name.
func ref(kind, ns, name string) string { return kube.Ref(kind, ns, name) }
