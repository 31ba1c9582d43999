// Command app-standin runs the STAND-INS on the demo app's data path, for
// a local cluster where chaos-daemon and a cloud load balancer cannot run.
// The real Chaos Mesh controller asks the chaos-daemon stand-in
// (plugin/internal/cmd/chaos-daemon-standin) to inject; that one puts the rules into
// these fault proxies.
//
// The subcommand faultproxy runs one HTTP fault proxy (package tproxy,
// a STAND-IN for chaos-daemon's HTTP fault injection, chaos-tproxy) in
// front of a local app, until SIGINT or SIGTERM:
//
//	app-standin faultproxy --upstream http://127.0.0.1:5000 --port 8080
//	    [--listen 127.0.0.1:18080] [--admin 127.0.0.1:19080] [--ready-file FILE]
//
// Annotate a pod with chaosdaemon.FaultProxyAnnotation set to the
// proxy's admin URL, and the chaos-daemon stand-in puts and deletes the
// pod's HTTPChaos rules there. The ready file then also holds "listen ADDR"
// and "admin URL" lines.
//
// The subcommand service is a STAND-IN for a LoadBalancer Service: a TCP
// round-robin over the fault proxies of the demo's app processes, which
// also binds each app pod to a proxy (the annotation above):
//
//	app-standin service --backends 127.0.0.1:18181,127.0.0.1:18182
//	    [--listen 127.0.0.1:18080] [--ready-file FILE]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:])
	stop()
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "app-standin:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return errors.New("a subcommand is required: faultproxy or service")
	}
	switch args[0] {
	case "faultproxy":
		return runFaultProxy(ctx, args[1:])
	case "service":
		return runService(ctx, args[1:])
	}
	return fmt.Errorf("unknown subcommand %q: use faultproxy or service", args[0])
}
