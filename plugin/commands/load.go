package commands

import (
	"context"
	"fmt"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/cloudify-chaos/chaosops/plugin/probe"
	"github.com/cloudify-chaos/chaosops/plugin/redact"
)

// loadCommand is steady background traffic, so that dashboards and PromQL
// probes have a request rate to watch before, during and after a run. It
// is the probes' load generator on its own: bounded rate and concurrency,
// a new connection per request.
func loadCommand() *cli.Command {
	return &cli.Command{
		Name:      "load",
		Usage:     "send steady HTTP traffic to a URL and print its success rate every --every (until Ctrl-C or --for)",
		ArgsUsage: "URL",
		Description: "Steps: check the flags; send --rps requests a second (a new connection each, at most --timeout each); every\n" +
			"--every print the requests sent and succeeded, and the success rate, of the seconds completed. Ctrl-C or --for\n" +
			"stops the traffic and prints the last line; nothing else is changed.",
		Flags: []cli.Flag{
			&cli.Float64Flag{Name: "rps", Value: 10, Usage: fmt.Sprintf("requests per second (at most %d)", probe.MaxRPS)},
			&cli.StringFlag{Name: "method", Value: "GET", Usage: "HTTP method"},
			&cli.DurationFlag{Name: "timeout", Value: 2 * time.Second, Usage: "per request"},
			&cli.DurationFlag{Name: "for", Usage: "stop after this long (default: until interrupted)"},
			&cli.DurationFlag{Name: "every", Value: 10 * time.Second, Usage: "how often a summary line is printed"},
			&cli.BoolFlag{Name: "insecure-skip-tls-verify", Usage: "turn off TLS verification of an https URL"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return usagef("load needs one URL, got %d arguments", c.NArg())
			}
			if d := c.Duration("every"); d <= 0 {
				return usagef("--every %s: not a positive duration; use e.g. 10s", d)
			}
			if d := c.Duration("for"); d < 0 {
				return usagef("--for %s: negative; use e.g. 5m, or leave it out to run until Ctrl-C", d)
			}
			spec := probe.Spec{Name: "load", Kind: probe.HTTP, URL: c.Args().First(), Method: c.String("method"), RPS: c.Float64("rps"),
				Timeout: c.Duration("timeout"), Window: c.Duration("every"), InsecureSkipTLSVerify: c.Bool("insecure-skip-tls-verify")}
			set, err := probe.New([]probe.Spec{spec}, probe.Options{Log: cliLogger(c, &redact.Redactor{})})
			if err != nil {
				return usageError{err}
			}
			ctx := c.Context
			if d := c.Duration("for"); d > 0 {
				var cancel func()
				ctx, cancel = context.WithTimeout(ctx, d)
				defer cancel()
			}
			set.Start(ctx)
			defer set.Close()
			tick := time.NewTicker(c.Duration("every"))
			defer tick.Stop()
			seen := 0
			for {
				select {
				case <-ctx.Done():
					set.Close()
					printLoad(c, set.Traffic()[seen:])
					return nil
				case <-tick.C:
					pts := set.Traffic()
					// The current second is still filling: leave it for next time.
					done := len(pts)
					for done > seen && time.Since(pts[done-1].At) < time.Second+spec.Timeout {
						done--
					}
					printLoad(c, pts[seen:done])
					seen = done
				}
			}
		},
	}
}

// printLoad prints one summary line for the points.
func printLoad(c *cli.Context, pts []probe.Point) {
	if len(pts) == 0 {
		return
	}
	sent, ok := 0, 0
	for _, p := range pts {
		sent, ok = sent+p.Sent, ok+p.OK
	}
	rate := 0.0
	if sent > 0 {
		rate = 100 * float64(ok) / float64(sent)
	}
	fmt.Fprintf(c.App.Writer, "%s  sent %d  ok %d  success %.1f%%\n", pts[0].At.Format("15:04:05"), sent, ok, rate)
}
