package controllerstandin

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/cloudify-chaos/chaosops/plugin/chaos/api"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/record"
	"k8s.io/client-go/util/workqueue"
)

// controller is one running stand-in.
type controller struct {
	opts     Options
	kinds    map[string]api.Kind // by name
	log      *slog.Logger
	dyn      dynamic.Interface
	kube     kubernetes.Interface
	queue    workqueue.TypedRateLimitingInterface[key]
	recorder record.EventRecorder
	inj      injector
	now      func() time.Time
	intn     func(int) int
}

// Run watches the chaos objects of opts.Kinds in the cluster of cfg and
// drives their finalizer and status as Chaos Mesh's controller would, until
// ctx is cancelled. It returns nil after a cancel, or an error when it
// cannot start. Objects it was driving keep their state; a restarted
// stand-in picks them up again.
func Run(ctx context.Context, cfg *rest.Config, opts Options) error {
	opts = opts.withDefaults()
	cfg = rest.CopyConfig(cfg)
	cfg.UserAgent = FieldManager
	if cfg.QPS == 0 && cfg.Burst == 0 {
		// client-go's default of 5 requests per second would make the
		// stand-in slower than the real controller (controller-runtime
		// uses 20, burst 30).
		cfg.QPS, cfg.Burst = 50, 100
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return fmt.Errorf("chaos controller stand-in: %w", err)
	}
	kube, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return fmt.Errorf("chaos controller stand-in: %w", err)
	}
	c := &controller{
		opts:  opts,
		kinds: map[string]api.Kind{},
		log:   opts.Logger,
		dyn:   dyn,
		kube:  kube,
		inj:   injector{waits: map[string]time.Time{}, proxies: map[string]string{}},
		now:   time.Now,
		intn:  rand.IntN,
		queue: workqueue.NewTypedRateLimitingQueueWithConfig(workqueue.DefaultTypedControllerRateLimiter[key](), workqueue.TypedRateLimitingQueueConfig[key]{Name: FieldManager}),
	}
	for _, k := range opts.Kinds {
		c.kinds[k.Name] = k
	}
	if !opts.NoEvents {
		var stop func()
		c.recorder, stop = newRecorder(ctx, kube)
		defer stop()
	}
	return c.run(ctx)
}

func (c *controller) run(ctx context.Context) error {
	defer c.queue.ShutDown()
	watchCtx, stopWatches := context.WithCancel(ctx)
	var watches sync.WaitGroup
	defer func() {
		stopWatches()
		watches.Wait()
	}()
	var watchers []*watcher
	for _, kind := range c.opts.Kinds {
		w := newWatcher(c, kind)
		watchers = append(watchers, w)
		watches.Go(func() { w.run(watchCtx) })
	}
	for _, w := range watchers {
		select {
		case <-w.synced:
		case <-ctx.Done():
			return nil
		}
	}
	c.log.Info("chaos controller stand-in ready", "kinds", len(c.opts.Kinds), "instance", c.opts.Instance,
		"namespaceFilter", c.opts.NamespaceFilter)
	if c.opts.Ready != nil {
		c.opts.Ready()
	}

	var workers sync.WaitGroup
	for range c.opts.Workers {
		workers.Go(func() {
			for c.work(ctx) {
			}
		})
	}
	<-ctx.Done()
	c.queue.ShutDown()
	workers.Wait()
	c.log.Info("chaos controller stand-in stopped")
	return nil
}

// work reconciles one queued key; it returns false once the queue shuts down.
func (c *controller) work(ctx context.Context) bool {
	k, shutdown := c.queue.Get()
	if shutdown {
		return false
	}
	defer c.queue.Done(k)
	r, err := c.reconcile(ctx, k)
	switch {
	case ctx.Err() != nil:
		c.queue.Forget(k)
	case err != nil:
		c.log.Warn("reconcile", "ref", k.ref(), "err", err)
		c.queue.AddRateLimited(k)
	case r.requeue:
		c.queue.AddRateLimited(k)
	case r.after > 0:
		c.queue.Forget(k)
		c.queue.AddAfter(k, r.after)
	default:
		c.queue.Forget(k)
	}
	return true
}
