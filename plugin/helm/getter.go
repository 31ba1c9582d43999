package helm

import (
	"sync"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// restGetter gives the Helm SDK our connection (genericclioptions'
// RESTClientGetter) without a kubeconfig: the credentials stay in memory,
// never in a file. Discovery and the RESTMapper are built once and shared,
// so that Helm's reset after installing CRDs reaches the mapper it uses.
type restGetter struct {
	cfg       *rest.Config
	namespace string

	once      sync.Once
	discovery discovery.CachedDiscoveryInterface
	mapper    *restmapper.DeferredDiscoveryRESTMapper
	err       error
}

func newRESTGetter(cfg *rest.Config, namespace string) *restGetter {
	return &restGetter{cfg: rest.CopyConfig(cfg), namespace: namespace}
}

// ToRESTConfig returns a copy of the connection's config.
func (g *restGetter) ToRESTConfig() (*rest.Config, error) { return rest.CopyConfig(g.cfg), nil }

func (g *restGetter) init() error {
	g.once.Do(func() {
		dc, err := discovery.NewDiscoveryClientForConfig(rest.CopyConfig(g.cfg))
		if err != nil {
			g.err = err
			return
		}
		g.discovery = memory.NewMemCacheClient(dc)
		g.mapper = restmapper.NewDeferredDiscoveryRESTMapper(g.discovery)
	})
	return g.err
}

// ToDiscoveryClient returns the shared memory-cached discovery client.
func (g *restGetter) ToDiscoveryClient() (discovery.CachedDiscoveryInterface, error) {
	if err := g.init(); err != nil {
		return nil, err
	}
	return g.discovery, nil
}

// ToRESTMapper returns the shared, resettable RESTMapper.
func (g *restGetter) ToRESTMapper() (meta.RESTMapper, error) {
	if err := g.init(); err != nil {
		return nil, err
	}
	return g.mapper, nil
}

// ToRawKubeConfigLoader returns a loader that answers with our config and
// the release namespace (kubectl's factory asks it for the namespace of
// objects that name none).
func (g *restGetter) ToRawKubeConfigLoader() clientcmd.ClientConfig { return memoryConfig{g} }

// memoryConfig is the clientcmd.ClientConfig of a restGetter.
type memoryConfig struct{ g *restGetter }

// RawConfig returns an empty kubeconfig: there is none to show.
func (m memoryConfig) RawConfig() (clientcmdapi.Config, error) { return *clientcmdapi.NewConfig(), nil }

// ClientConfig returns the connection's config.
func (m memoryConfig) ClientConfig() (*rest.Config, error) { return m.g.ToRESTConfig() }

// Namespace returns the release namespace, as if set with --namespace.
func (m memoryConfig) Namespace() (string, bool, error) { return m.g.namespace, true, nil }

// ConfigAccess is nil: there is no kubeconfig file to read or modify.
func (m memoryConfig) ConfigAccess() clientcmd.ConfigAccess { return nil }
