// Command chaosops runs chaos experiments as Day-2 operations for Cloudify:
// an operation executable for Cloudify's script plugin and a CLI.
package main

import (
	"os"

	"github.com/cloudify-chaos/chaosops/plugin/cloudify/operation"
	"github.com/cloudify-chaos/chaosops/plugin/commands"
)

func main() {
	ctx, stop := operation.SignalContext()
	code := commands.Main(ctx, os.Args, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
