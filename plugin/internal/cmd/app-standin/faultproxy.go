package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"

	"github.com/cloudify-chaos/chaosops/plugin/internal/readyfile"
	"github.com/cloudify-chaos/chaosops/plugin/internal/standin/tproxy"
)

// runFaultProxy runs one fault proxy until ctx is cancelled.
func runFaultProxy(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("app-standin faultproxy", flag.ContinueOnError)
	var opts tproxy.Options
	fs.StringVar(&opts.Listen, "listen", "127.0.0.1:0", "address the proxied traffic arrives at")
	fs.StringVar(&opts.Admin, "admin", "127.0.0.1:0", "address of the admin API (rules)")
	fs.StringVar(&opts.Upstream, "upstream", "", "the app's URL, e.g. http://127.0.0.1:5000 (required)")
	fs.IntVar(&opts.Port, "port", 0, "container port the proxy answers for: HTTPChaos port (required)")
	readyFile := fs.String("ready-file", "", "file written once the proxy listens (pid, listen and admin lines), removed on exit")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("faultproxy: unexpected arguments %q; use flags only", fs.Args())
	}
	opts.Log = slog.New(slog.NewTextHandler(os.Stderr, nil))
	p, err := tproxy.New(opts)
	if err != nil {
		return fmt.Errorf("faultproxy: %w", err)
	}
	if *readyFile != "" {
		// The listeners are bound: connections queue until Serve accepts.
		if err := readyfile.Write(*readyFile, "listen "+p.Addr(), "admin "+p.AdminURL()); err != nil {
			return fmt.Errorf("--ready-file %s: %w", *readyFile, err)
		}
		defer os.Remove(*readyFile)
	}
	return p.Serve(ctx)
}
