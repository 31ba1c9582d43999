package chaosdaemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
)

// Defaults of Options, those of the Chaos Mesh chart and the test control
// plane.
const (
	// DefaultPort is chaos-daemon's gRPC port (chart value
	// chaosDaemon.grpcPort), the controller's CHAOS_DAEMON_SERVICE_PORT
	// default.
	DefaultPort = 31767
	// DefaultNamespace is where the controller looks for daemons (its own
	// namespace).
	DefaultNamespace = "chaos-mesh"
	// DefaultNode is the kwok node of scripts/testenv.sh.
	DefaultNode = "kwok-node-0"
	// FieldManager names the stand-in in managedFields.
	FieldManager = "chaos-daemon-standin"
)

// Timeouts.
const (
	// cleanupTimeout bounds the deletion of the EndpointSlice at exit.
	cleanupTimeout = 10 * time.Second
	// retryInterval paces retries of a failed publish or listen.
	retryInterval = time.Second
)

// Options configure New.
type Options struct {
	// Listen is the address of the gRPC server (default
	// "127.0.0.1:31767"). Its host is also the address published, so it
	// must be an IP that the controller can reach, and its port the
	// controller's CHAOS_DAEMON_SERVICE_PORT. Port 0 picks a free port.
	Listen string
	// Namespace is the controller's namespace, where the EndpointSlice is
	// published (default "chaos-mesh"). UnreachableAnnotation and the
	// other knobs on this Namespace apply to every call.
	Namespace string
	// Node is the node the stand-in serves: the controller sends it the
	// calls for pods whose spec.nodeName is Node (default "kwok-node-0").
	Node string
	// Logger receives one line per call, change and error (nil discards).
	Logger *slog.Logger
	// Ready, if set, is called once the pods are watched, the gRPC server
	// is in the state the knobs ask for and the EndpointSlice is published.
	Ready func()
}

func (o Options) withDefaults() Options {
	if o.Listen == "" {
		o.Listen = net.JoinHostPort("127.0.0.1", fmt.Sprint(DefaultPort))
	}
	if o.Namespace == "" {
		o.Namespace = DefaultNamespace
	}
	if o.Node == "" {
		o.Node = DefaultNode
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

func (o Options) validate() error {
	host, _, err := net.SplitHostPort(o.Listen)
	if err != nil {
		return fmt.Errorf("listen: %q is not host:port; use e.g. 127.0.0.1:%d", o.Listen, DefaultPort)
	}
	if ip, err := netip.ParseAddr(host); err != nil || ip.IsUnspecified() {
		return fmt.Errorf("listen: host %q is not an IP the controller can dial; use e.g. 127.0.0.1:%d", host, DefaultPort)
	}
	if errs := validation.IsDNS1123Label(o.Namespace); len(errs) > 0 {
		return fmt.Errorf("namespace: %q is not a namespace name: %s", o.Namespace, errs[0])
	}
	if errs := validation.IsDNS1123Subdomain(SliceName(o.Node)); len(errs) > 0 {
		return fmt.Errorf("node: %q is not a node name: %s", o.Node, errs[0])
	}
	return nil
}

// Server is one running chaos-daemon stand-in.
type Server struct {
	opts     Options
	log      *slog.Logger
	kube     kubernetes.Interface
	addr     string // the listener's address, port resolved
	podIndex cache.Indexer
	now      func() time.Time

	mu           sync.Mutex
	containers   map[string]*container // by container id
	lastInstance int64

	lis       net.Listener // bound by New; Serve takes it
	grpc      *grpc.Server // serving now; nil while refused
	served    chan struct{}
	published bool // the EndpointSlice is there (as far as Serve knows)
}

// New checks opts and binds the gRPC listener, so that Addr is known before
// Serve.
func New(cfg *rest.Config, opts Options) (*Server, error) {
	opts = opts.withDefaults()
	if err := opts.validate(); err != nil {
		return nil, err
	}
	cfg = rest.CopyConfig(cfg)
	cfg.UserAgent = FieldManager
	cfg.WarningHandler = warningLogger{opts.Logger}
	kube, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("chaos-daemon stand-in: %w", err)
	}
	lis, err := net.Listen("tcp", opts.Listen)
	if err != nil {
		return nil, fmt.Errorf("listen: %w; stop what uses the port or pick another (and set the controller's CHAOS_DAEMON_SERVICE_PORT to it)", err)
	}
	return &Server{
		opts: opts, log: opts.Logger, kube: kube, addr: lis.Addr().String(), now: time.Now,
		containers: map[string]*container{}, lastInstance: firstInstance - 1, lis: lis,
	}, nil
}

// Addr is the address the gRPC server listens at.
func (s *Server) Addr() string { return s.addr }

// Serve watches pods and its namespace's knobs, serves chaos-daemon's gRPC
// service and publishes the EndpointSlice, until ctx is cancelled. Then it
// deletes the slice, stops the server and returns nil; an error means it
// could not start.
func (s *Server) Serve(ctx context.Context) error {
	defer s.stopGRPC()

	kick := make(chan struct{}, 1)
	poke := func() {
		select {
		case kick <- struct{}{}:
		default:
		}
	}
	pods := informers.NewSharedInformerFactoryWithOptions(s.kube, 0, informers.WithTransform(stripManagedFields))
	podInformer := pods.Core().V1().Pods().Informer()
	if err := podInformer.AddIndexers(cache.Indexers{containerIndex: containerIDs}); err != nil {
		return err
	}
	s.podIndex = podInformer.GetIndexer()
	if _, err := podInformer.AddEventHandler(cache.ResourceEventHandlerFuncs{DeleteFunc: func(obj any) {
		if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
			obj = d.Obj
		}
		if pod, ok := obj.(*corev1.Pod); ok {
			s.podGone(ctx, pod)
		}
	}}); err != nil {
		return err
	}
	own := informers.NewSharedInformerFactoryWithOptions(s.kube, 0, informers.WithTweakListOptions(func(o *metav1.ListOptions) {
		o.FieldSelector = "metadata.name=" + s.opts.Namespace
	}))
	nsInformer := own.Core().V1().Namespaces().Informer()
	if _, err := nsInformer.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(any) { poke() },
		UpdateFunc: func(any, any) { poke() },
		DeleteFunc: func(any) { poke() },
	}); err != nil {
		return err
	}
	informerCtx, stopInformers := context.WithCancel(ctx)
	pods.Start(informerCtx.Done())
	own.Start(informerCtx.Done())
	defer func() {
		stopInformers()
		pods.Shutdown()
		own.Shutdown()
	}()
	if !cache.WaitForCacheSync(ctx.Done(), podInformer.HasSynced, nsInformer.HasSynced) {
		return nil // cancelled
	}
	// Calls are served only now, with the index synced; until then the
	// controller's connections wait in the listen backlog.
	s.startGRPC(s.lis)
	s.lis = nil

	defer func() {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
		defer cancel()
		if err := s.unpublish(cctx); err != nil {
			s.log.Error("cleanup", "err", err)
		}
	}()
	ready := false
	retry := time.NewTimer(0)
	defer retry.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-kick:
		case <-retry.C:
		}
		if err := s.reconcileTransport(ctx, nsInformer.GetStore()); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			if !ready && errors.Is(err, errForeignSlice) {
				return err
			}
			s.log.Error("transport", "err", err)
			retry.Reset(retryInterval)
			continue
		}
		if !ready {
			ready = true
			s.log.Info("chaos-daemon stand-in ready", "listen", s.addr, "namespace", s.opts.Namespace, "node", s.opts.Node)
			if s.opts.Ready != nil {
				s.opts.Ready()
			}
		}
	}
}

// reconcileTransport brings the listener and the EndpointSlice to what
// UnreachableAnnotation on the stand-in's namespace asks.
func (s *Server) reconcileTransport(ctx context.Context, namespaces cache.Store) error {
	var annotations map[string]string
	if obj, ok, _ := namespaces.GetByKey(s.opts.Namespace); ok {
		annotations = obj.(*corev1.Namespace).Annotations
	}
	mode, err := transportKnob(annotations)
	if err != nil {
		return fmt.Errorf("Namespace/%s: %w", s.opts.Namespace, err)
	}
	if mode == unreachableRefuse {
		if s.stopGRPC() {
			s.log.Info("unreachable: listener closed", "listen", s.addr, "annotation", UnreachableAnnotation)
		}
	} else if s.grpc == nil {
		lis, err := net.Listen("tcp", s.addr)
		if err != nil {
			return fmt.Errorf("listen again: %w", err)
		}
		s.startGRPC(lis)
		s.log.Info("listening again", "listen", s.addr)
	}
	switch {
	case mode == unreachableUnpublished && s.published:
		if err := s.unpublish(ctx); err != nil {
			return err
		}
		s.published = false
	case mode != unreachableUnpublished && !s.published:
		if err := s.publish(ctx); err != nil {
			return err
		}
		s.published = true
	}
	return nil
}

func (s *Server) startGRPC(lis net.Listener) {
	srv := grpc.NewServer(grpc.ChainUnaryInterceptor(s.logCall))
	srv.RegisterService(s.serviceDesc(), s)
	served := make(chan struct{})
	go func() {
		defer close(served)
		if err := srv.Serve(lis); err != nil && !errors.Is(err, grpc.ErrServerStopped) {
			s.log.Error("gRPC server", "err", err)
		}
	}()
	s.grpc, s.served = srv, served
}

// stopGRPC closes the listener and every connection, and reports whether
// the server was running.
func (s *Server) stopGRPC() bool {
	if s.grpc == nil {
		if s.lis != nil {
			s.lis.Close()
			s.lis = nil
		}
		return false
	}
	s.grpc.Stop()
	<-s.served
	s.grpc = nil
	return true
}

// logCall logs each call with the object the controller names in the
// call's metadata (its PodHttpChaos).
func (s *Server) logCall(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	var object string
	if md, ok := metadata.FromIncomingContext(ctx); ok {
		if v := md.Get("namespaced-name"); len(v) > 0 {
			object = v[0]
		}
	}
	start := time.Now()
	resp, err := handler(ctx, req)
	s.log.Info("call", "method", info.FullMethod, "object", object, "took", time.Since(start).Round(time.Millisecond), "err", err)
	return resp, err
}

// warningLogger logs the API server's warnings (such as the deprecation of
// FQDN EndpointSlices) instead of printing them through klog.
type warningLogger struct{ log *slog.Logger }

func (w warningLogger) HandleWarningHeader(code int, agent, text string) {
	if code == 299 && text != "" {
		w.log.Warn("API server warning", "warning", text)
	}
}

func stripManagedFields(obj any) (any, error) {
	if m, ok := obj.(metav1.Object); ok {
		m.SetManagedFields(nil)
	}
	return obj, nil
}
