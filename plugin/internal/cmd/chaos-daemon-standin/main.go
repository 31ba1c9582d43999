// Command chaos-daemon-standin runs the chaos-daemon stand-in (package
// chaosdaemon) for one simulated node: it serves chaos-daemon's gRPC
// service to the real Chaos Mesh controller, applies HTTPChaos rules to the
// fault proxies named by pod annotations, and publishes itself in the
// EndpointSlice the controller looks up. It is for test clusters where
// chaos-daemon cannot run.
//
//	chaos-daemon-standin --kubeconfig FILE [--listen 127.0.0.1:31767]
//	    [--namespace chaos-mesh] [--node kwok-node-0] [--ready-file FILE]
//
// Steps: bind --listen; watch pods and the knobs on --namespace; serve;
// publish EndpointSlice chaos-daemon-<node> in --namespace; write
// --ready-file ("pid N" and "listen ADDR" lines). The controller must run
// with CHAOS_DAEMON_SERVICE_PORT set to the port of --listen, and without
// CHAOS_MESH_CA_CERT (plaintext gRPC). SIGINT or SIGTERM stop it (exit
// 0): it deletes the EndpointSlice, closes the server and removes the ready
// file. Rules it put to fault proxies stay there, as chaos-tproxy keeps
// running when chaos-daemon stops; the controller's next call replaces them.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"k8s.io/client-go/tools/clientcmd"

	"github.com/cloudify-chaos/chaosops/plugin/internal/readyfile"
	"github.com/cloudify-chaos/chaosops/plugin/internal/standin/chaosdaemon"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:])
	stop()
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "chaos-daemon-standin:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("chaos-daemon-standin", flag.ContinueOnError)
	var opts chaosdaemon.Options
	kubeconfig := fs.String("kubeconfig", "", "kubeconfig of the cluster (required)")
	fs.StringVar(&opts.Listen, "listen", fmt.Sprintf("127.0.0.1:%d", chaosdaemon.DefaultPort),
		"gRPC address; its IP is published, its port must be the controller's CHAOS_DAEMON_SERVICE_PORT")
	fs.StringVar(&opts.Namespace, "namespace", chaosdaemon.DefaultNamespace, "the controller's namespace, where the EndpointSlice goes")
	fs.StringVar(&opts.Node, "node", chaosdaemon.DefaultNode, "the node whose pods this daemon serves")
	readyFile := fs.String("ready-file", "", "file written once the stand-in serves and is published, removed on exit")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q; use flags only", fs.Args())
	}
	if *kubeconfig == "" {
		return errors.New("--kubeconfig is required")
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", *kubeconfig)
	if err != nil {
		return fmt.Errorf("--kubeconfig %s: %w", *kubeconfig, err)
	}
	opts.Logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
	var (
		s        *chaosdaemon.Server
		readyErr error
	)
	if *readyFile != "" {
		opts.Ready = func() { // called by Serve, so s is set
			if readyErr = readyfile.Write(*readyFile, "listen "+s.Addr()); readyErr != nil {
				opts.Logger.Error("ready file", "path", *readyFile, "err", readyErr)
			}
		}
		defer os.Remove(*readyFile)
	}
	s, err = chaosdaemon.New(cfg, opts)
	if err != nil {
		return err
	}
	if err := s.Serve(ctx); err != nil {
		return err
	}
	return readyErr
}
