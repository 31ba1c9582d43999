// Command chaosops runs chaos experiments as Day-2 operations for Cloudify.
// One executable has three modes, picked here: Cloudify's `ctx` CLI (called
// as ctx, or chaosops ctx), the operation Cloudify's script plugin started
// it for (no arguments, CTX_SOCKET_URL set), and otherwise the CLI.
package main

import (
	"context"
	"os"
	"path/filepath"

	"github.com/cloudify-chaos/chaosops/plugin/cloudify"
	"github.com/cloudify-chaos/chaosops/plugin/cloudify/ctxcli"
	"github.com/cloudify-chaos/chaosops/plugin/cloudify/operation"
	"github.com/cloudify-chaos/chaosops/plugin/commands"
	"github.com/cloudify-chaos/chaosops/plugin/operations"
)

func main() {
	ctx, stop := operation.SignalContext()
	code := run(ctx, os.Args)
	stop()
	os.Exit(code)
}

// mode is what one start of the executable serves.
type mode int

const (
	cliMode mode = iota
	ctxMode
	operationMode
)

// pick chooses the mode from the arguments and CTX_SOCKET_URL, and returns
// the arguments that mode takes.
func pick(args []string, socket string) (mode, []string) {
	switch {
	case len(args) > 0 && filepath.Base(args[0]) == "ctx":
		return ctxMode, args[1:]
	case len(args) > 1 && args[1] == "ctx":
		return ctxMode, args[2:]
	case len(args) <= 1 && socket != "":
		return operationMode, nil
	}
	return cliMode, args
}

func run(ctx context.Context, args []string) int {
	socket := os.Getenv(cloudify.SocketEnv)
	switch m, rest := pick(args, socket); m {
	case ctxMode:
		return ctxcli.Main(ctx, rest, os.Stdout, os.Stderr)
	case operationMode:
		return operation.Execute(ctx, operations.Registry(), operation.Options{SocketURL: socket, Stderr: os.Stderr})
	default:
		return commands.Main(ctx, rest, os.Stdout, os.Stderr)
	}
}
