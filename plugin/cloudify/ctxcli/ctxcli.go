// Package ctxcli is a Go rendition of Cloudify's `ctx` CLI (spec 2.4): the
// executable called as "ctx" (a symlink) or as "chaosops ctx" makes the same
// proxy calls as the Python one, so shell scripts and the launcher need no
// Python.
package ctxcli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/cloudify-chaos/chaosops/plugin/cloudify"
)

// Exit codes, as in README's table.
const (
	exitOK    = 0
	exitError = 1 // the call failed
	exitUsage = 2 // bad arguments
)

// Usage is the help of ctx --help.
const Usage = `usage: ctx [options] CALL...   (or chaosops ctx [options] CALL...)

Makes one call to the ctx proxy of the operation that runs this script, as Cloudify's
Python ctx CLI does, and prints the result (nothing for an empty one; -j for JSON).
Examples: ctx node properties; ctx instance runtime-properties key @'"value"';
ctx download-resource bin/chaosops; ctx logger info "message".

Options (before the call):
  -j, --json-output         print the result as JSON
  -t, --timeout SECONDS     bound of the call (default 30)
  --socket-url URL          the proxy (default $CTX_SOCKET_URL, set by the script plugin)
  --json-arg-prefix PREFIX  arguments starting with PREFIX are JSON (default @)
  -h, --help                print this help

Exit codes: 0 done, 1 the call failed (or the operation was stopped), 2 bad arguments.
`

// Main runs one ctx call with args (after "ctx") and returns the exit code.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	socket := os.Getenv(cloudify.SocketEnv)
	prefix := "@"
	asJSON := false
	timeout := 30 * time.Second
	i := 0
	for ; i < len(args); i++ {
		a := args[i]
		next := func() (string, bool) {
			if i+1 < len(args) {
				i++
				return args[i], true
			}
			return "", false
		}
		switch {
		case a == "-h" || a == "--help":
			fmt.Fprint(stdout, Usage)
			return exitOK
		case a == "-j" || a == "--json-output":
			asJSON = true
		case a == "-t" || a == "--timeout":
			v, ok := next()
			secs, err := strconv.ParseFloat(v, 64)
			if !ok || err != nil {
				fmt.Fprintln(stderr, "ctx: -t needs a number of seconds")
				return exitUsage
			}
			timeout = time.Duration(secs * float64(time.Second))
		case a == "--socket-url":
			v, ok := next()
			if !ok {
				fmt.Fprintln(stderr, "ctx: --socket-url needs a URL")
				return exitUsage
			}
			socket = v
		case a == "--json-arg-prefix":
			v, ok := next()
			if !ok {
				fmt.Fprintln(stderr, "ctx: --json-arg-prefix needs a prefix")
				return exitUsage
			}
			prefix = v
		default:
			goto rest
		}
	}
rest:
	var callArgs []any
	for _, a := range args[i:] {
		if prefix != "" && strings.HasPrefix(a, prefix) {
			v, err := cloudify.DecodeValue([]byte(a[len(prefix):]))
			if err != nil || len(a) == len(prefix) {
				fmt.Fprintf(stderr, "ctx: argument %q is not valid JSON after the %s prefix\n", a, prefix)
				return exitUsage
			}
			callArgs = append(callArgs, v)
			continue
		}
		callArgs = append(callArgs, a)
	}
	client, err := cloudify.NewClient(socket)
	if err != nil {
		fmt.Fprintln(stderr, "ctx:", err)
		return exitError
	}
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	v, err := client.Call(cctx, callArgs...)
	if errors.Is(err, cloudify.ErrStopOperation) {
		fmt.Fprintln(stderr, "ctx: operation stopped")
		return exitError
	}
	if err != nil {
		fmt.Fprintln(stderr, "ctx:", err)
		return exitError
	}
	if asJSON {
		b, _ := json.Marshal(v)
		fmt.Fprintln(stdout, string(b))
		return exitOK
	}
	if v == nil || v == false || v == "" || v == int64(0) || v == float64(0) {
		return exitOK // the Python CLI prints nothing for falsy payloads (spec 2.4)
	}
	switch t := v.(type) {
	case string:
		fmt.Fprintln(stdout, t)
	case map[string]any, []any:
		b, _ := json.Marshal(t)
		fmt.Fprintln(stdout, string(b))
	default:
		fmt.Fprintln(stdout, t)
	}
	return exitOK
}
