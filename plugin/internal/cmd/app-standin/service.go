package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/cloudify-chaos/chaosops/plugin/internal/readyfile"
)

// dialTimeout bounds the connection to one backend.
const dialTimeout = 2 * time.Second

// runService is a STAND-IN for a LoadBalancer Service in front of the
// demo's local app processes: a TCP (L4) round-robin over the backends, one
// backend per accepted connection, as kube-proxy balances connections. L4
// keeps the fault proxies' aborts visible to clients: a closed backend
// connection closes the client's.
func runService(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("app-standin service", flag.ContinueOnError)
	listen := fs.String("listen", "127.0.0.1:0", "address clients connect to")
	backends := fs.String("backends", "", "comma-separated host:port of the backends, e.g. the fault proxies (required)")
	readyFile := fs.String("ready-file", "", "file written once it listens (pid and listen lines), removed on exit")
	kubeconfig := fs.String("kubeconfig", "", "cluster whose Service this stands in for (optional: without it, only the round-robin runs)")
	b := binder{log: slog.New(slog.NewTextHandler(os.Stderr, nil))}
	fs.StringVar(&b.namespace, "namespace", "default", "namespace of the Service")
	fs.StringVar(&b.service, "service", "", "the LoadBalancer Service: its ingress is published and its pods bound to --pod-proxies")
	fs.StringVar(&b.ingressIP, "ingress-ip", "127.0.0.1", "ingress IP published on the Service")
	podProxies := fs.String("pod-proxies", "", "comma-separated admin URLs of the backends' fault proxies, bound one per pod")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var pool []string
	for _, b := range strings.Split(*backends, ",") {
		if b = strings.TrimSpace(b); b != "" {
			if _, _, err := net.SplitHostPort(b); err != nil {
				return fmt.Errorf("service: --backends: %q is not host:port", b)
			}
			pool = append(pool, b)
		}
	}
	if len(pool) == 0 {
		return errors.New("service: --backends: not set; give host:port,host:port")
	}
	if *kubeconfig != "" {
		if b.service == "" {
			return errors.New("service: --service: not set; name the LoadBalancer Service to stand in for")
		}
		for _, u := range strings.Split(*podProxies, ",") {
			if u = strings.TrimSpace(u); u != "" {
				b.proxies = append(b.proxies, u)
			}
		}
		cfg, err := clientcmd.BuildConfigFromFlags("", *kubeconfig)
		if err != nil {
			return fmt.Errorf("service: --kubeconfig: %w", err)
		}
		if b.kube, err = kubernetes.NewForConfig(cfg); err != nil {
			return fmt.Errorf("service: %w", err)
		}
		go b.run(ctx)
	}
	l, err := net.Listen("tcp", *listen)
	if err != nil {
		return fmt.Errorf("service: --listen: %w", err)
	}
	if *readyFile != "" {
		if err := readyfile.Write(*readyFile, "listen "+l.Addr().String()); err != nil {
			return fmt.Errorf("--ready-file %s: %w", *readyFile, err)
		}
		defer os.Remove(*readyFile)
	}
	return serveRoundRobin(ctx, l, pool)
}

// serveRoundRobin accepts until ctx ends, then closes every connection.
func serveRoundRobin(ctx context.Context, l net.Listener, pool []string) error {
	var next atomic.Uint64
	var wg sync.WaitGroup
	stop := context.AfterFunc(ctx, func() { l.Close() })
	defer stop()
	for {
		c, err := l.Accept()
		if err != nil {
			wg.Wait()
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("service: accept: %w", err)
		}
		backend := pool[next.Add(1)%uint64(len(pool))]
		wg.Add(1)
		go func() {
			defer wg.Done()
			pipe(ctx, c, backend)
		}()
	}
}

// pipe copies both ways until either side closes; a backend that cannot
// be reached closes the client at once (a refused connection).
func pipe(ctx context.Context, client net.Conn, backend string) {
	defer client.Close()
	d := net.Dialer{Timeout: dialTimeout}
	b, err := d.DialContext(ctx, "tcp", backend)
	if err != nil {
		return
	}
	defer b.Close()
	stop := context.AfterFunc(ctx, func() { client.Close(); b.Close() })
	defer stop()
	done := make(chan struct{}, 2)
	cp := func(dst, src net.Conn) {
		_, _ = io.Copy(dst, src)
		if tc, ok := dst.(*net.TCPConn); ok {
			_ = tc.CloseWrite()
		}
		done <- struct{}{}
	}
	go cp(b, client)
	go cp(client, b)
	<-done
	<-done
}
