// Command chaosops runs chaos experiments as Day-2 operations for Cloudify:
// an operation executable for Cloudify's script plugin and a CLI.
package main

import (
	"os"

	"github.com/cloudify-chaos/chaosops/plugin/commands"
	"github.com/cloudify-chaos/chaosops/plugin/runtime"
)

func main() {
	ctx, stop := runtime.SignalContext()
	code := commands.Main(ctx, os.Args, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
