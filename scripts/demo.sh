#!/usr/bin/env bash
# make demo: the whole story on one machine. The demo app (the real Flask
# app of examples/python-prometheus) serves traffic; the bundle's
# Chaos-Demo-Environment is installed with the local runner (each operation
# runs bin/chaosops through the script runner (plugin/cloudify/scriptrunner), as a Cloudify manager
# would); RunHTTPChaos aborts /api/* as a Day-2 workflow; the load
# generator's success rate and the app's request rate (real Prometheus)
# drop, then recover; the verdict, the report and its chart are printed.
#
# Locally (no KUBECONFIG): the Kubernetes control plane is the project's
# test control plane (scripts/testenv.sh: kube-apiserver, etcd, kwok pods,
# Chaos Mesh's real controller-manager). The Deployment's pods are simulated;
# each is bound to one local app process behind a fault proxy, which the
# chaos-daemon stand-in drives (the STAND-INs for chaos-daemon's HTTP
# injection), and a TCP round-robin stands
# in for the LoadBalancer Service, so the fault is real for the traffic.
#
# With KUBECONFIG=FILE (make demo KUBECONFIG=...): the same install and
# workflow against a real cluster with real Chaos Mesh (the pinned chart)
# and kube-prometheus; the probe calls the app's load balancer.
#
# Steps: control plane; 3 app processes + fault proxies + service stand-in;
# the load generator (chaosops load, 10 requests/s); Prometheus; chaosops
# local install; chaosops local execute RunHTTPChaos (its own HTTP probe
# sends 20 requests/s more); the verdict, report and chart; uninstall.
#
# Environment (all optional):
#   DEMO_DURATION   how long the fault lasts (60s)
#   DEMO_DIR        state, logs and the report (.chaosops/demo)
#   DEMO_PORT_BASE  local ports: service BASE, apps BASE+1.., proxies
#                   BASE+101.., proxy admin BASE+201.. (18080)
#   DEMO_PROMETHEUS_PORT  (39090)
#   DEMO_CLUSTER_DIR, DEMO_APISERVER_PORT, DEMO_ETCD_PORT, DEMO_ETCD_PEER_PORT
#                   the local control plane (/tmp/chaosops-demo-cluster,
#                   16443, 12379, 12380); a control plane already running
#                   there is used and left running
#   DEMO_KEEP=1     leave the installation and processes for a look around
# Ctrl-C cancels cleanly: the chaos object is deleted, everything stops.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

DURATION=${DEMO_DURATION:-60s}
DIR=${DEMO_DIR:-$ROOT/.chaosops/demo}
BASE=${DEMO_PORT_BASE:-18080}
REPLICAS=3
APP_NS=chaos-demo
BIN=${CHAOSOPS_BIN:-$ROOT/bin/chaosops}
PY=/usr/bin/python3

say() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
die() {
	printf 'demo: error: %s\n' "$*" >&2
	exit 1
}

pids=()
started_cluster=
installed=
cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	if [ -n "${DEMO_KEEP:-}" ]; then
		echo "DEMO_KEEP set: left running (pids ${pids[*]:-none}, state $DIR)"
		exit "$rc"
	fi
	if [ -n "$installed" ]; then
		say "uninstall"
		if "$BIN" local --state-dir "$DIR/state" list 2>/dev/null | grep -qw demo; then
			"$BIN" local --state-dir "$DIR/state" uninstall -d demo || rc=1
		fi
	fi
	for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
	for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
	[ -z "${KUBECONFIG:-}" ] && scripts/prometheus.sh stop "$DIR/prometheus" >/dev/null 2>&1 || true
	if [ -n "$started_cluster" ]; then
		scripts/testenv.sh stop >/dev/null 2>&1 || true
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# wait_file FILE WHAT: the ready files of the stand-ins.
wait_file() {
	local i
	for i in $(seq 1 150); do
		[ -s "$1" ] && return 0
		sleep 0.1
	done
	die "$2 did not start (logs in $DIR/logs)"
}

# need_packages installs the Debian packages of the app and Prometheus
# when they are missing (PyPI is not reachable on these machines).
need_packages() {
	local need=()
	"$PY" -c 'import flask, prometheus_client' 2>/dev/null || need+=(python3-flask python3-prometheus-client)
	[ -x /usr/bin/prometheus ] || need+=(prometheus)
	[ ${#need[@]} -eq 0 ] && return 0
	say "installing ${need[*]} (apt)"
	local sudo=
	[ "$(id -u)" -eq 0 ] || sudo=sudo
	[ -e /usr/sbin/policy-rc.d ] || { printf '#!/bin/sh\nexit 101\n' | $sudo tee /usr/sbin/policy-rc.d >/dev/null && $sudo chmod +x /usr/sbin/policy-rc.d; }
	$sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}"
}

# tree lays the bundle out as Cloudify would see the uploaded blueprints:
# one folder per blueprint id, plus the local stand-in for the cluster
# blueprint and the kube-prometheus fixture for the offline install.
tree() {
	local t=$DIR/blueprints id
	rm -rf "$t"
	mkdir -p "$t"
	for id in Chaos-Demo-Environment Prometheus-Operator Python-Prometheus Chaos-Mesh; do
		mkdir "$t/$id"
		ln -s "$ROOT/blueprints/$id/"* "$t/$id/" # includes the types symlink
	done
	mkdir "$t/Local-Cluster"
	ln -s "$ROOT/examples/local-demo/Local-Cluster/blueprint.yaml" "$t/Local-Cluster/"
	ln -s "$ROOT/manifests/kube-prometheus/fixture" "$t/Prometheus-Operator/fixture"
}

start_local() {
	need_packages
	export CHAOSOPS_TESTENV_DIR=${DEMO_CLUSTER_DIR:-/tmp/chaosops-demo-cluster}
	export CHAOSOPS_TESTENV_APISERVER_PORT=${DEMO_APISERVER_PORT:-16443}
	export CHAOSOPS_TESTENV_ETCD_PORT=${DEMO_ETCD_PORT:-12379}
	export CHAOSOPS_TESTENV_ETCD_PEER_PORT=${DEMO_ETCD_PEER_PORT:-12380}
	# The real Chaos Mesh controller-manager with its webhooks; faults are
	# injected through the chaos-daemon stand-in into the fault proxies.
	[[ ${DEMO_CHAOS:-real} == real ]] ||
		die "DEMO_CHAOS=$DEMO_CHAOS: the controller stand-in is gone; the demo always runs the real Chaos Mesh controller"
	if status=$(scripts/testenv.sh status 2>/dev/null); then
		say "using the control plane running in $CHAOSOPS_TESTENV_DIR (${status##*: })"
	else
		say "starting the local control plane (kube-apiserver, etcd, kwok, the real Chaos Mesh controller)"
		scripts/testenv.sh build
		started_cluster=1
		scripts/testenv.sh start
	fi
	KUBECONFIG_FILE=$CHAOSOPS_TESTENV_DIR/kubeconfig

	say "starting the demo app: $REPLICAS Flask processes, each behind a fault proxy"
	mkdir -p "$DIR/bin"
	CGO_ENABLED=0 go build -trimpath -o "$DIR/bin/app-standin" ./plugin/internal/cmd/app-standin
	local i app proxies=() admins=() targets=()
	for i in $(seq 1 $REPLICAS); do
		app=127.0.0.1:$((BASE + i))
		(cd examples/python-prometheus && PORT=$((BASE + i)) exec "$PY" -c \
			'import os, app; app.app.run(host="127.0.0.1", port=int(os.environ["PORT"]), threaded=True)') \
			>"$DIR/logs/app-$i.log" 2>&1 &
		pids+=($!)
		"$DIR/bin/app-standin" faultproxy --upstream "http://$app" --port 8080 \
			--listen "127.0.0.1:$((BASE + 100 + i))" --admin "127.0.0.1:$((BASE + 200 + i))" \
			--ready-file "$DIR/run/proxy-$i.ready" >"$DIR/logs/proxy-$i.log" 2>&1 &
		pids+=($!)
		proxies+=("127.0.0.1:$((BASE + 100 + i))")
		admins+=("http://127.0.0.1:$((BASE + 200 + i))")
		targets+=("$app")
	done
	for i in $(seq 1 $REPLICAS); do
		wait_file "$DIR/run/proxy-$i.ready" "fault proxy $i"
		for _ in $(seq 1 100); do
			curl -fs -o /dev/null "http://${targets[$((i - 1))]}/health" && break
			sleep 0.1
		done
		curl -fsS -o /dev/null "http://${targets[$((i - 1))]}/health" || die "app process $i does not answer (log $DIR/logs/app-$i.log)"
	done
	"$DIR/bin/app-standin" service --listen "127.0.0.1:$BASE" \
		--backends "$(IFS=,; echo "${proxies[*]}")" --kubeconfig "$KUBECONFIG_FILE" \
		--namespace "$APP_NS" --service python-prometheus --pod-proxies "$(IFS=,; echo "${admins[*]}")" \
		--ready-file "$DIR/run/service.ready" >"$DIR/logs/service.log" 2>&1 &
	pids+=($!)
	wait_file "$DIR/run/service.ready" "service stand-in"
	APP_URL=http://127.0.0.1:$BASE

	say "starting the load generator: 10 requests/s to $APP_URL/api/orders (log $DIR/logs/load.log)"
	"$BIN" load "$APP_URL/api/orders" --rps 10 --every 10s >"$DIR/logs/load.log" 2>&1 &
	pids+=($!)

	say "starting Prometheus (scraping the three app processes every second)"
	PROM_URL=$(CHAOSOPS_PROMETHEUS_PORT=${DEMO_PROMETHEUS_PORT:-39090} scripts/prometheus.sh start "$DIR/prometheus" "${targets[@]}")
	echo "Prometheus: $PROM_URL"
}

# wait_for_traffic waits (60 s at most) until Prometheus sees most of the
# load generator's 10 requests/s at the app over a full 10 s window, so the
# run's PromQL gate (> 5) judges the steady state, not a rate still ramping
# up from Prometheus' first scrapes.
wait_for_traffic() {
	local q='sum(rate(http_requests_total{path="/api/orders"}[10s]))' v i
	echo "waiting for Prometheus to see the app's request rate"
	for i in $(seq 1 60); do
		v=$(curl -fsS --get "$PROM_URL/api/v1/query" --data-urlencode "query=$q" 2>/dev/null |
			"$PY" -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if r else 0)' 2>/dev/null || echo 0)
		if "$PY" -c 'import sys; sys.exit(0 if float(sys.argv[1]) >= 8 else 1)' "$v"; then
			echo "app request rate: $v requests/s"
			return 0
		fi
		sleep 1
	done
	die "Prometheus did not see the app's traffic within 60 s (logs in $DIR/logs, $DIR/prometheus)"
}

main() {
	[ -x "$BIN" ] || die "$BIN missing: run make demo (it builds first)"
	rm -rf "$DIR/state" "$DIR/run" "$DIR/report" "$DIR/logs"
	mkdir -p "$DIR/state" "$DIR/run" "$DIR/logs"
	"$BIN" version
	local chaos_mesh_inputs prom_inputs probes
	if [ -n "${KUBECONFIG:-}" ]; then
		[ -r "$KUBECONFIG" ] || die "KUBECONFIG=$KUBECONFIG is not a readable file"
		KUBECONFIG_FILE=$KUBECONFIG
		chaos_mesh_inputs='{}'
		prom_inputs='{}'
	else
		start_local
		chaos_mesh_inputs="{namespace: chaos-demo-mesh, chart_repo: '', chart: '$ROOT/examples/local-demo/chaos-mesh-standin-chart', chart_sha256: '', wait_timeout: 2m}"
		prom_inputs='{kube_prometheus_setup_urls: [], kube_prometheus_setup_files: [fixture/setup.yaml], kube_prometheus_urls: [], kube_prometheus_files: [fixture/main.yaml], wait_timeout: 2m}'
	fi
	tree
	cat >"$DIR/inputs.yaml" <<-EOF
		cluster_blueprint: Local-Cluster
		cluster_inputs: {kubeconfig: '$KUBECONFIG_FILE'}
		app_namespace: $APP_NS
		prometheus_operator_inputs: $prom_inputs
		chaos_mesh_inputs: $chaos_mesh_inputs
		python_prometheus_inputs: {replicas: $REPLICAS, wait_timeout: 2m}
	EOF

	say "chaosops local install Chaos-Demo-Environment (cluster, Prometheus-Operator, Python-Prometheus, Chaos-Mesh)"
	# The safety lever secret (chaos-safety-lever) is off: runs may start.
	export CHAOSOPS_SECRET_chaos__safety__lever=off
	export CHAOSOPS_WORKDIR=$DIR/work
	installed=1
	"$BIN" local --state-dir "$DIR/state" install "$DIR/blueprints/Chaos-Demo-Environment" -d demo -i "@$DIR/inputs.yaml"
	"$BIN" local --state-dir "$DIR/state" outputs -d demo

	if [ -n "${KUBECONFIG:-}" ]; then
		APP_URL=$("$BIN" local --state-dir "$DIR/state" outputs -d demo | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["capabilities"]["app_endpoint"])')
		probes='[]'
	else
		# The app's own request rate, as Grafana shows it, must be there
		# before the run (gate) and is expected to drop during the fault:
		# aborted requests never reach the app.
		probes="[{name: app-request-rate, kind: promql, phases: [before, during], during: deviate, interval: 2s,
		  query: 'sum(rate(http_requests_total{path=\"/api/orders\"}[5s]))', comparator: '>', threshold: 5}]"
	fi
	# RunHTTPChaos' typed parameters (as cfy executions start -p takes them).
	cat >"$DIR/params.yaml" <<-EOF
		duration: $DURATION
		path: /api/*
		mode: all
		probe_url: $APP_URL/api/orders
		probe_rps: 20
		probe_window: 5s
		probe_interval: 2s
		settle: 20s
		prometheus_url: "${PROM_URL:-}"
		probes: $probes
		report_dir: $DIR/report
	EOF
	[ -n "${PROM_URL:-}" ] && wait_for_traffic
	say "traffic: $APP_URL/api/orders (the probe's load generator, 20 requests/s)"
	curl -fsS "$APP_URL/api/orders" >/dev/null && echo "the app answers through the service"

	say "chaosops local execute RunHTTPChaos -d demo-app: abort /api/* on all pods for $DURATION"
	local rc=0
	"$BIN" local --state-dir "$DIR/state" execute RunHTTPChaos -d demo-app -p "@$DIR/params.yaml" || rc=$?

	say "result"
	if [ -f "$DIR/report/journal.json" ]; then
		"$BIN" report show "$DIR/report"
		if command -v rsvg-convert >/dev/null; then
			rsvg-convert "$DIR/report/chart.svg" -o "$DIR/report/chart.png" && echo "chart (PNG): $DIR/report/chart.png"
		fi
		echo
		echo "report:  $DIR/report/report.md"
		echo "chart:   $DIR/report/chart.svg"
		echo "journal: $DIR/report/journal.json"
		echo "verdict: $("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["verdict"])' "$DIR/report/journal.json")"
	else
		echo "no report was written (see the output above)"
	fi
	[ "$rc" -eq 0 ] || die "RunHTTPChaos failed (exit $rc)"
	echo "demo: ok"
}

main "$@"
