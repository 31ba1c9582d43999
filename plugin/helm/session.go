package helm

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/yaml"

	"helm.sh/helm/v4/pkg/action"
	helmkube "helm.sh/helm/v4/pkg/kube"
	release "helm.sh/helm/v4/pkg/release/v1"
	releaseutil "helm.sh/helm/v4/pkg/release/v1/util"
	"helm.sh/helm/v4/pkg/storage/driver"

	"github.com/cloudify-chaos/chaosops/plugin/kube"
)

// fieldManagerOnce sets Helm's server-side apply field manager, a package
// global of the SDK that otherwise is the executable's name. "helm" lets the
// helm CLI take over a release without field conflicts.
var fieldManagerOnce sync.Once

// session is one release namespace's Helm configuration: Secrets storage
// and a Kubernetes client on our connection.
type session struct {
	ac        *action.Configuration
	getter    *restGetter
	namespace string
	log       *slog.Logger
}

func newSession(cfg *rest.Config, namespace string, log *slog.Logger) (*session, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	fieldManagerOnce.Do(func() {
		if helmkube.ManagedFieldsManager == "" {
			helmkube.ManagedFieldsManager = "helm"
		}
	})
	g := newRESTGetter(cfg, namespace)
	ac := action.NewConfiguration(action.ConfigurationSetLogger(minLevel{log.Handler(), slog.LevelInfo}))
	if err := ac.Init(g, namespace, "secrets"); err != nil {
		return nil, fmt.Errorf("helm configuration: %w", err)
	}
	if kc, ok := ac.KubeClient.(*helmkube.Client); ok {
		kc.Namespace = namespace
	}
	return &session{ac: ac, getter: g, namespace: namespace, log: log}, nil
}

// history returns the release's revisions, oldest first; none when absent.
func (s *session) history(name string) ([]*release.Release, error) {
	hs, err := s.ac.Releases.History(name)
	if errors.Is(err, driver.ErrReleaseNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("helm release %s: read history: %w", ref(s.namespace, name), err)
	}
	out := make([]*release.Release, 0, len(hs))
	for _, h := range hs {
		r, ok := h.(*release.Release)
		if !ok {
			return nil, fmt.Errorf("helm release %s: a revision is stored in a format this Helm SDK does not read (%T)", ref(s.namespace, name), h)
		}
		out = append(out, r)
	}
	releaseutil.SortByRevision(out)
	return out, nil
}

// last returns the newest revision, or nil.
func last(hist []*release.Release) *release.Release {
	if len(hist) == 0 {
		return nil
	}
	return hist[len(hist)-1]
}

// resources lists the objects of rel's manifest as kube.Ref strings. The
// scope of each kind comes from discovery, so a namespaced object that names
// no namespace is shown in the release's.
func (s *session) resources(rel *release.Release) []string {
	mapper, err := s.getter.ToRESTMapper()
	if err != nil {
		mapper = nil
	}
	var out []string
	for _, doc := range releaseutil.SplitManifests(rel.Manifest) {
		var head struct {
			APIVersion string `json:"apiVersion"`
			Kind       string `json:"kind"`
			Metadata   struct {
				Name      string `json:"name"`
				Namespace string `json:"namespace"`
			} `json:"metadata"`
		}
		if yaml.Unmarshal([]byte(doc), &head) != nil || head.Kind == "" {
			continue
		}
		ns := head.Metadata.Namespace
		if ns == "" && namespaced(mapper, head.APIVersion, head.Kind) {
			ns = rel.Namespace
		}
		out = append(out, kube.Ref(head.Kind, ns, head.Metadata.Name))
	}
	sort.Strings(out)
	return out
}

// namespaced says whether kind is namespaced; unknown kinds count as
// namespaced, as most are.
func namespaced(mapper meta.RESTMapper, apiVersion, kind string) bool {
	if mapper == nil {
		return true
	}
	gv, err := schema.ParseGroupVersion(apiVersion)
	if err != nil {
		return true
	}
	m, err := mapper.RESTMapping(gv.WithKind(kind).GroupKind(), gv.Version)
	if err != nil {
		return true
	}
	return m.Scope.Name() == meta.RESTScopeNameNamespace
}

// minLevel drops the Helm SDK's debug lines (every request, every poll of
// a wait); its warnings and errors still reach the log.
type minLevel struct {
	slog.Handler
	min slog.Level
}

// Enabled is false below min.
func (h minLevel) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.min && h.Handler.Enabled(ctx, l)
}

// WithAttrs keeps the filter.
func (h minLevel) WithAttrs(as []slog.Attr) slog.Handler {
	return minLevel{h.Handler.WithAttrs(as), h.min}
}

// WithGroup keeps the filter.
func (h minLevel) WithGroup(name string) slog.Handler {
	return minLevel{h.Handler.WithGroup(name), h.min}
}
