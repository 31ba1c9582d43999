package kube

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/util/flowcontrol"
)

// Client-side rate limits. The API server protects itself (priority and
// fairness); these only keep one chaosops from flooding it while letting a
// ~100-object apply run without throttling.
const (
	// DefaultQPS is ConnOptions.QPS when zero.
	DefaultQPS = 100
	// DefaultBurst is ConnOptions.Burst when zero.
	DefaultBurst = 300
	// probeTimeout bounds the /version request Connect makes.
	probeTimeout = 15 * time.Second
)

// ConnOptions says how to reach the cluster. Set exactly one of
// Kubeconfig, API or InCluster.
type ConnOptions struct {
	// Kubeconfig is kubeconfig content (YAML or JSON), or the path of a
	// kubeconfig file: a single line naming an existing file is read as a
	// path. Its content never appears in errors or logs.
	Kubeconfig string
	// Context selects a kubeconfig context; default the current context.
	Context string
	// API connects with explicit settings instead of a kubeconfig.
	API *APIOptions
	// InCluster uses the service account of the pod we run in.
	InCluster bool
	// InsecureSkipTLSVerify turns off verification of the API server's
	// certificate, with a warning in the log. It must be set explicitly:
	// a kubeconfig asking for it is refused unless this is also set.
	InsecureSkipTLSVerify bool
	// QPS limits requests per second on the client side; default
	// DefaultQPS.
	QPS float32
	// Burst is how many requests may exceed QPS briefly; default
	// DefaultBurst.
	Burst int
	// DisableCompression turns off gzip of API responses. The API server
	// compresses every large response (a CRD is ~100 KB-1 MB of JSON), which
	// costs more CPU than it saves on a fast network; over a slow link it
	// pays. Compression is always off for an API server on a loopback
	// address (kind, minikube, k3d, tests).
	DisableCompression bool
	// UserAgent is sent with every request; default "chaosops".
	UserAgent string
	// Log receives the insecure-TLS warning; nil discards.
	Log *slog.Logger
}

// APIOptions connects without a kubeconfig (Cloudify's api_options).
type APIOptions struct {
	// Host is the API server URL, e.g. https://10.0.0.1:6443.
	Host string
	// Token is a bearer token.
	Token string
	// SSLCACert is the CA bundle that signed the server certificate: PEM
	// content or the path of a PEM file.
	SSLCACert string
	// ClientCert is a client certificate for certificate authentication:
	// PEM content or the path of a PEM file.
	ClientCert string
	// ClientKey is the key of ClientCert: PEM content or the path of a PEM
	// file. It never appears in errors.
	ClientKey string
}

// Client is a connection to one cluster: a dynamic client and a RESTMapper
// backed by memory-cached discovery.
type Client struct {
	// Host is the API server URL.
	Host string
	// Namespace is the namespace of the kubeconfig context (or of the pod,
	// in cluster); empty when none is set.
	Namespace string
	// Dynamic reads and writes any kind of object.
	Dynamic dynamic.Interface
	// Mapper maps kinds to resources; discovery results are cached until
	// Reset.
	Mapper *restmapper.DeferredDiscoveryRESTMapper

	discovery discovery.CachedDiscoveryInterface
	metadata  metadata.Interface
	config    *rest.Config
}

// Reset forgets cached discovery, so that kinds of newly established
// CustomResourceDefinitions can be mapped.
func (c *Client) Reset() { c.Mapper.Reset() }

// RESTConfig returns a copy of the connection's REST config for building
// other clients. It carries credentials: never log it.
func (c *Client) RESTConfig() *rest.Config { return rest.CopyConfig(c.config) }

// Connect builds a Client from opts and checks that the API server answers
// (GET /version), so that TLS and credential problems surface here with a
// clear message.
func Connect(ctx context.Context, opts ConnOptions) (*Client, error) {
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cfg, ns, err := restConfig(opts)
	if err != nil {
		return nil, err
	}
	if cfg.Insecure {
		log.Warn(fmt.Sprintf("TLS verification of the API server %s is turned off (insecure_skip_tls_verify): the connection can be intercepted", cfg.Host))
	}
	c, err := NewClient(cfg, opts)
	if err != nil {
		return nil, err
	}
	c.Namespace = ns
	if err := c.probe(ctx); err != nil {
		return nil, err
	}
	return c, nil
}

// NewClient builds a Client from a REST config without checking the
// connection. Only QPS, Burst, DisableCompression, UserAgent and Log of
// opts are used, the first four only when cfg leaves them unset. Requests
// that cannot reach the API server are retried within their context's
// deadline (see UnreachableError), each retry logged to opts.Log.
func NewClient(cfg *rest.Config, opts ConnOptions) (*Client, error) {
	cfg = rest.CopyConfig(cfg)
	if opts.DisableCompression || isLoopback(cfg.Host) {
		cfg.DisableCompression = true
	}
	if cfg.UserAgent == "" {
		cfg.UserAgent = opts.UserAgent
		if cfg.UserAgent == "" {
			cfg.UserAgent = "chaosops"
		}
	}
	if cfg.RateLimiter == nil {
		qps, burst := opts.QPS, opts.Burst
		if qps == 0 {
			qps = DefaultQPS
		}
		if burst == 0 {
			burst = DefaultBurst
		}
		// One limiter shared by the dynamic and discovery clients.
		cfg.RateLimiter = flowcontrol.NewTokenBucketRateLimiter(qps, burst)
	}
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	quiet := &logThrottle{}
	cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper {
		return &retryTransport{next: rt, host: cfg.Host, log: log, quiet: quiet}
	})
	hc, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", cfg.Host, err)
	}
	dyn, err := dynamic.NewForConfigAndClient(cfg, hc)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", cfg.Host, err)
	}
	dc, err := discovery.NewDiscoveryClientForConfigAndClient(cfg, hc)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", cfg.Host, err)
	}
	md, err := metadata.NewForConfigAndClient(cfg, hc)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", cfg.Host, err)
	}
	cached := memory.NewMemCacheClient(dc)
	return &Client{
		Host:      cfg.Host,
		Dynamic:   dyn,
		Mapper:    restmapper.NewDeferredDiscoveryRESTMapper(cached),
		discovery: cached,
		metadata:  md,
		config:    cfg,
	}, nil
}

// isLoopback reports whether the API server URL names a loopback address.
func isLoopback(host string) bool {
	u, err := url.Parse(host)
	if err != nil {
		return false
	}
	h := u.Hostname()
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// probe asks for /version and explains the usual failures. Each attempt
// is bounded by probeTimeout; an API server that cannot be reached is
// asked again until ctx's deadline (DefaultUnreachableWait without one).
func (c *Client) probe(ctx context.Context) error {
	until := retryUntil(ctx, time.Now())
	ctx = withRetryUntil(ctx, until)
	for {
		actx, cancel := context.WithTimeout(ctx, probeTimeout)
		err := c.discovery.RESTClient().Get().AbsPath("/version").Do(actx).Error()
		cancel()
		var ue *UnreachableError
		if err == nil || !errors.As(err, &ue) || ctx.Err() != nil || time.Until(until) < unreachableFirstDelay {
			return connectError(c.Host, err)
		}
	}
}

// connectError names the host and, for TLS and authentication failures,
// the setting to check.
func connectError(host string, err error) error {
	if err == nil {
		return nil
	}
	var uae x509.UnknownAuthorityError
	var he x509.HostnameError
	var cie x509.CertificateInvalidError
	var cve *tls.CertificateVerificationError
	var opErr *net.OpError
	switch {
	case errors.As(err, &uae) || errors.As(err, &cve):
		return fmt.Errorf("connect to %s: the server's TLS certificate is not trusted (%v); set ssl_ca_cert (or the kubeconfig's certificate-authority-data) to the CA that signed it", host, rootCause(err))
	case errors.As(err, &he):
		return fmt.Errorf("connect to %s: the server's TLS certificate does not match the host (%v); use a host name the certificate lists", host, he)
	case errors.As(err, &cie):
		return fmt.Errorf("connect to %s: the server's TLS certificate is invalid (%v)", host, cie)
	case apierrors.IsUnauthorized(err):
		return fmt.Errorf("connect to %s: credentials were rejected (401 Unauthorized); check the token or client certificate", host)
	case errors.Is(err, context.Canceled):
		return fmt.Errorf("connect to %s: %w", host, err)
	case errors.As(err, new(*UnreachableError)):
		return fmt.Errorf("connect to %s: %w", host, err)
	case errors.As(err, &opErr):
		return fmt.Errorf("connect to %s: %v", host, opErr)
	}
	return fmt.Errorf("connect to %s: %w", host, err)
}

func rootCause(err error) error {
	for {
		u := errors.Unwrap(err)
		if u == nil {
			return err
		}
		err = u
	}
}
