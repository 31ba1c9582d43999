#!/usr/bin/env bash
# make demo: the local default. Installs the example blueprint with the
# local runner (every operation runs bin/chaosops through the ctx proxy
# stand-in, as a Cloudify manager would), runs a custom workflow with a
# parameter, prints the outputs, and uninstalls. Ctrl-C cancels cleanly.
set -euo pipefail
cd "$(dirname "$0")/.."

bin=bin/chaosops
state=$(mktemp -d -t chaosops-demo.XXXXXX)
trap 'rm -rf "$state"' EXIT
run() { echo "+ chaosops $*"; "$bin" "$@"; }

run version
run local --state-dir "$state" install examples/local-smoke -d demo -i greeting="hello from make demo"
run local --state-dir "$state" execute SelfTest -d demo -p 'operation_kwargs={outcome: success}'
run local --state-dir "$state" outputs -d demo
run local --state-dir "$state" list
run local --state-dir "$state" uninstall -d demo
echo "demo: ok"
