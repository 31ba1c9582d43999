// Command chaos-controller-standin runs the Chaos Mesh controller stand-in
// (package controllerstandin) against a cluster: it drives the finalizer and
// status of chaos-mesh.org objects as Chaos Mesh's controller does, without
// injecting any fault. It is for test clusters where chaos-daemon cannot run.
//
//	chaos-controller-standin --kubeconfig FILE [--namespace-filter] [--resync 0]
//	    [--instance NAME] [--ready-file FILE] [--fail-injection] [--fail-recovery]
//	    [--sticky-finalizer] [--injection-delay 0] [--workers 4] [--no-events]
//
// Once its watches are established it logs "chaos controller stand-in
// ready" and writes --ready-file. SIGINT or SIGTERM stop it (exit 0); it
// removes the ready file on the way out.
//
// The subcommand faultproxy runs one HTTP fault proxy (package faultproxy,
// a STAND-IN for chaos-daemon's HTTP fault injection) in front of a local
// app, until SIGINT or SIGTERM:
//
//	chaos-controller-standin faultproxy --upstream http://127.0.0.1:5000 --port 8080
//	    [--listen 127.0.0.1:18080] [--admin 127.0.0.1:19080] [--ready-file FILE]
//
// Annotate a pod with controllerstandin.FaultProxyAnnotation set to the
// proxy's admin URL, and the stand-in puts and deletes the pod's HTTPChaos
// rules there. The ready file then also holds "listen ADDR" and
// "admin URL" lines.
//
// The subcommand service is a STAND-IN for a LoadBalancer Service: a TCP
// round-robin over the fault proxies of the demo's app processes:
//
//	chaos-controller-standin service --backends 127.0.0.1:18181,127.0.0.1:18182
//	    [--listen 127.0.0.1:18080] [--ready-file FILE]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/cloudify-chaos/chaosops/plugin/chaos/controllerstandin"
	"k8s.io/client-go/tools/clientcmd"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:])
	stop()
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "chaos-controller-standin:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	if len(args) > 0 && args[0] == "faultproxy" {
		return runFaultProxy(ctx, args[1:])
	}
	if len(args) > 0 && args[0] == "service" {
		return runService(ctx, args[1:])
	}
	fs := flag.NewFlagSet("chaos-controller-standin", flag.ContinueOnError)
	var (
		opts       controllerstandin.Options
		kubeconfig = fs.String("kubeconfig", "", "kubeconfig of the cluster (required)")
		readyFile  = fs.String("ready-file", "", "file written once the stand-in is ready, removed on exit")
	)
	fs.BoolVar(&opts.NamespaceFilter, "namespace-filter", false, "only pods of namespaces annotated chaos-mesh.org/inject=enabled are eligible")
	fs.DurationVar(&opts.Resync, "resync", 0, "re-reconcile every object this often (0: never, as Chaos Mesh)")
	fs.StringVar(&opts.Instance, "instance", "", "handle only namespaces labelled "+controllerstandin.InstanceLabel+"=NAME (empty: namespaces without the label)")
	fs.IntVar(&opts.Workers, "workers", controllerstandin.DefaultWorkers, "objects reconciled at once")
	fs.BoolVar(&opts.FailInjection, "fail-injection", false, "make every injection fail")
	fs.BoolVar(&opts.FailRecovery, "fail-recovery", false, "make every recovery fail")
	fs.BoolVar(&opts.StickyFinalizer, "sticky-finalizer", false, "keep the finalizer on deleted objects unless cleanFinalizer is forced")
	fs.DurationVar(&opts.InjectionDelay, "injection-delay", 0, "hold records in Not Injected/Wait this long before Injected")
	fs.BoolVar(&opts.NoEvents, "no-events", false, "emit no Kubernetes Events")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *kubeconfig == "" {
		return fmt.Errorf("--kubeconfig is required")
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", *kubeconfig)
	if err != nil {
		return fmt.Errorf("--kubeconfig %s: %w", *kubeconfig, err)
	}
	opts.Logger = slog.New(slog.NewTextHandler(os.Stderr, nil))

	var readyErr error
	if *readyFile != "" {
		opts.Ready = func() {
			if readyErr = writeReady(*readyFile); readyErr != nil {
				opts.Logger.Error("ready file", "path", *readyFile, "err", readyErr)
			}
		}
		defer os.Remove(*readyFile)
	}
	if err := controllerstandin.Run(ctx, cfg, opts); err != nil {
		return err
	}
	return readyErr
}

// writeReady writes the ready file atomically, so that a poller never sees
// it half-written: "pid N", then the extra lines.
func writeReady(path string, extra ...string) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".ready-*")
	if err != nil {
		return err
	}
	fmt.Fprintf(tmp, "pid %d\n", os.Getpid())
	for _, line := range extra {
		fmt.Fprintln(tmp, line)
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
