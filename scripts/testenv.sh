#!/usr/bin/env bash
# scripts/testenv.sh: a real, throwaway Kubernetes control plane for tests.
#
#   build   build the pinned binaries (Kubernetes, etcd, kwok and Chaos Mesh's
#           controller-manager) into versioned cache dirs (skipped when present)
#   start   build if needed, then start a fresh, empty cluster: etcd, kube-apiserver,
#           kube-controller-manager, kube-scheduler, kwok with one Ready fake node,
#           the Chaos Mesh and ServiceMonitor CRDs, Chaos Mesh's real controller-manager
#           with its webhooks, and the chaos-daemon stand-in;
#           any previous instance is killed and its state removed first
#   stop    kill the processes of the running instance, wait until they are gone
#           and their ports are free, and remove its state dir
#   env     print the exports that point kubectl and tests at the cluster
#   status  exit 0 if the cluster is running and ready, 3 if it is not
#
# Environment (all optional):
#   CHAOSOPS_TESTENV_DIR            state dir: pids, logs, certs, kubeconfig (/tmp/chaosops-testenv)
#   CHAOSOPS_CACHE                  binary cache root ($HOME/.cache/chaosops)
#   CHAOSOPS_SHARED_DIR             dir holding crds/ (<repo>/../shared)
#   CHAOSOPS_TESTENV_APISERVER_PORT kube-apiserver secure port (26443)
#   CHAOSOPS_TESTENV_ETCD_PORT      etcd client port (22379)
#   CHAOSOPS_TESTENV_ETCD_PEER_PORT etcd peer port (22380)
#   CHAOSOPS_TESTENV_TIMEOUT        seconds to wait for each readiness step (60)
#   CHAOSOPS_TESTENV_CHAOS          real (the default and the only value left: the controller
#                                   stand-in is gone, issue 15)
#   CHAOSOPS_TESTENV_DAEMON_PORT    the chaos-daemon stand-in's gRPC port (31767)
#   CHAOSOPS_TESTENV_WEBHOOK_PORT   the controller's admission webhook port (29443)
#   CHAOSOPS_TESTENV_CHAOS_METRICS_PORT the controller's metrics port (29080)
#   CHAOSOPS_TESTENV_LOCKED=1       the caller already holds the flock on $CHAOSOPS_TESTENV_DIR.lock
#                                   (plugin/internal/testenv does); start and stop otherwise take it
#
# See scripts/testenv/README.md.
set -euo pipefail

readonly KUBE_VERSION=v1.37.2
readonly ETCD_VERSION=v3.7.0
readonly KWOK_VERSION=v0.8.0
# Chaos Mesh's module has no /v2 path, so its releases are no module versions;
# this is the newest the module proxy serves (release-2.8 line after v2.8.4, see
# scripts/testenv/README.md). Keep it equal to scripts/testenv/chaos-mesh/go.mod.
readonly CHAOS_MESH_VERSION=v0.9.1-0.20260902003049-47411975a8cb

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
readonly REPO_ROOT
readonly TOOLS_DIR=$REPO_ROOT/scripts/testenv/tools
readonly CONFIG_DIR=$REPO_ROOT/scripts/testenv
readonly SHARED_DIR=${CHAOSOPS_SHARED_DIR:-$REPO_ROOT/../shared}
readonly CACHE_DIR=${CHAOSOPS_CACHE:-$HOME/.cache/chaosops}/kube-$KUBE_VERSION-etcd-$ETCD_VERSION-kwok-$KWOK_VERSION
readonly BIN=$CACHE_DIR/bin
readonly CHAOS_MESH_TOOLS_DIR=$REPO_ROOT/scripts/testenv/chaos-mesh
# Holds bin/chaos-controller-manager and crds/chaos-mesh-crd.yaml of that version.
readonly CHAOS_MESH_CACHE_DIR=${CHAOSOPS_CACHE:-$HOME/.cache/chaosops}/chaos-mesh-$CHAOS_MESH_VERSION
readonly DIR=${CHAOSOPS_TESTENV_DIR:-/tmp/chaosops-testenv}
readonly APISERVER_PORT=${CHAOSOPS_TESTENV_APISERVER_PORT:-26443}
readonly ETCD_PORT=${CHAOSOPS_TESTENV_ETCD_PORT:-22379}
readonly ETCD_PEER_PORT=${CHAOSOPS_TESTENV_ETCD_PEER_PORT:-22380}
readonly TIMEOUT=${CHAOSOPS_TESTENV_TIMEOUT:-60}
readonly CHAOS_MODE=${CHAOSOPS_TESTENV_CHAOS:-real}
readonly DAEMON_PORT=${CHAOSOPS_TESTENV_DAEMON_PORT:-31767}
readonly WEBHOOK_PORT=${CHAOSOPS_TESTENV_WEBHOOK_PORT:-29443}
readonly CHAOS_METRICS_PORT=${CHAOSOPS_TESTENV_CHAOS_METRICS_PORT:-29080}
# The namespace of Chaos Mesh's workloads, as the chart is installed.
readonly CHAOS_NAMESPACE=chaos-mesh

readonly BINARIES=(kube-apiserver kube-controller-manager kube-scheduler kubectl etcd kwok)
# Stop order: clients first, etcd last (an apiserver without etcd hangs retrying).
readonly PROCESSES=(chaos-controller-manager chaos-daemon-standin
	kwok kube-scheduler kube-controller-manager kube-apiserver etcd)
# Marks a directory as ours, so stop never removes anything else.
readonly MARKER=.chaosops-testenv
readonly NODE_NAME=kwok-node-0

log() { printf 'testenv: %s\n' "$*" >&2; }
die() {
	log "error: $*"
	exit 1
}

now_ms() { date +%s%3N; }

# mark STEP appends STEP and the time since cmd_start began to logs/start.log.
mark() { printf '%6d ms  %s\n' "$(($(now_ms) - started))" "$*" >>"$DIR/logs/start.log"; }

# ---------------------------------------------------------------- build

have_binaries() {
	local b
	for b in "${BINARIES[@]}"; do
		[[ -x $BIN/$b ]] || return 1
	done
}

cmd_build() {
	build_kube
	build_chaos_mesh
}

build_kube() {
	if have_binaries; then
		log "binaries up to date in $BIN"
		return 0
	fi
	command -v go >/dev/null || die "go is not on PATH (needs Go >= 1.26)"
	mkdir -p "$CACHE_DIR"
	# Serialise concurrent builds of the same cache dir (fd 8 stays open, and
	# locked, until the script exits; launch keeps it from the daemons).
	exec 8>"$CACHE_DIR/.build.lock"
	flock 8
	if have_binaries; then
		log "binaries up to date in $BIN (built concurrently)"
		return 0
	fi

	local started tmp
	started=$(now_ms)
	# The cache dir name promises these versions; refuse to build anything else.
	local want="k8s.io/kubernetes $KUBE_VERSION
go.etcd.io/etcd/server/v3 $ETCD_VERSION
sigs.k8s.io/kwok $KWOK_VERSION" got
	got=$(cd "$TOOLS_DIR" && GOWORK=off go list -m k8s.io/kubernetes go.etcd.io/etcd/server/v3 sigs.k8s.io/kwok)
	[[ $got == "$want" ]] || die "scripts/testenv/tools/go.mod pins
$got
but scripts/testenv.sh expects
$want
update KUBE_VERSION/ETCD_VERSION/KWOK_VERSION together with go.mod"

	# Leftovers of an interrupted build; we hold the lock, so none is in use.
	rm -rf "$CACHE_DIR"/bin.tmp.*
	tmp=$(mktemp -d "$CACHE_DIR/bin.tmp.XXXXXX")
	local minor=${KUBE_VERSION#v1.}
	minor=${minor%%.*}
	local kube_ldflags="-s -w -X k8s.io/component-base/version.gitVersion=$KUBE_VERSION
		-X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor
		-X k8s.io/component-base/version.gitTreeState=clean"
	log "building Kubernetes $KUBE_VERSION, etcd $ETCD_VERSION and kwok $KWOK_VERSION into $BIN (cold: 6-20 min on 2 cores, GOCACHE +4-5 GB)"
	(
		cd "$TOOLS_DIR"
		export GOWORK=off CGO_ENABLED=0
		go build -trimpath -ldflags "$kube_ldflags" -o "$tmp/" \
			k8s.io/kubernetes/cmd/kube-apiserver \
			k8s.io/kubernetes/cmd/kube-controller-manager \
			k8s.io/kubernetes/cmd/kube-scheduler \
			k8s.io/kubernetes/cmd/kubectl
		go build -trimpath -ldflags "-s -w -X go.etcd.io/etcd/api/v3/version.GitSHA=$ETCD_VERSION" \
			-o "$tmp/etcd" go.etcd.io/etcd/server/v3
		go build -trimpath -ldflags "-s -w -X sigs.k8s.io/kwok/pkg/consts.Version=${KWOK_VERSION#v}" \
			-o "$tmp/kwok" sigs.k8s.io/kwok/cmd/kwok
	)
	mkdir -p "$BIN"
	local b
	for b in "${BINARIES[@]}"; do
		mv -f "$tmp/$b" "$BIN/$b"
	done
	rmdir "$tmp"
	log "built in $(($(now_ms) - started)) ms"
}

readonly CHAOS_MESH_BIN=$CHAOS_MESH_CACHE_DIR/bin/chaos-controller-manager
readonly CHAOS_MESH_CRDS=$CHAOS_MESH_CACHE_DIR/crds/chaos-mesh-crd.yaml

have_chaos_mesh() { [[ -x $CHAOS_MESH_BIN && -r $CHAOS_MESH_CRDS ]]; }

# build_chaos_mesh builds Chaos Mesh's controller-manager from the module
# proxy (scripts/testenv/chaos-mesh is its own module, mirroring upstream's
# replace directives) and keeps the CRDs of the same module version beside it.
build_chaos_mesh() {
	if have_chaos_mesh; then
		log "Chaos Mesh controller-manager up to date in $CHAOS_MESH_CACHE_DIR"
		return 0
	fi
	command -v go >/dev/null || die "go is not on PATH (needs Go >= 1.26)"
	mkdir -p "$CHAOS_MESH_CACHE_DIR"
	# fd 7 as fd 8 above: held until the script exits, closed for the daemons.
	exec 7>"$CHAOS_MESH_CACHE_DIR/.build.lock"
	flock 7
	if have_chaos_mesh; then
		log "Chaos Mesh controller-manager up to date in $CHAOS_MESH_CACHE_DIR (built concurrently)"
		return 0
	fi

	local started tmp got moddir
	started=$(now_ms)
	got=$(cd "$CHAOS_MESH_TOOLS_DIR" && GOWORK=off go list -m github.com/chaos-mesh/chaos-mesh)
	[[ $got == "github.com/chaos-mesh/chaos-mesh $CHAOS_MESH_VERSION" ]] ||
		die "scripts/testenv/chaos-mesh/go.mod pins $got but scripts/testenv.sh expects $CHAOS_MESH_VERSION; update CHAOS_MESH_VERSION together with go.mod"
	rm -rf "$CHAOS_MESH_CACHE_DIR"/tmp.*
	tmp=$(mktemp -d "$CHAOS_MESH_CACHE_DIR/tmp.XXXXXX")
	log "building Chaos Mesh controller-manager $CHAOS_MESH_VERSION into $CHAOS_MESH_CACHE_DIR (cold: about 6 min on 2 cores, GOCACHE +1.5 GB)"
	(
		cd "$CHAOS_MESH_TOOLS_DIR"
		export GOWORK=off CGO_ENABLED=0
		local pkg=github.com/chaos-mesh/chaos-mesh/pkg/version
		go build -trimpath \
			-ldflags "-s -w -X $pkg.gitVersion=$CHAOS_MESH_VERSION -X $pkg.gitCommit=${CHAOS_MESH_VERSION##*-}" \
			-o "$tmp/" github.com/chaos-mesh/chaos-mesh/cmd/chaos-controller-manager
	)
	# The chart's CRDs (helm/chaos-mesh/crds) are the same objects as this file.
	moddir=$(cd "$CHAOS_MESH_TOOLS_DIR" && GOWORK=off go list -m -f '{{.Dir}}' github.com/chaos-mesh/chaos-mesh)
	[[ -r $moddir/manifests/crd.yaml ]] || die "no manifests/crd.yaml in $moddir"
	cp "$moddir/manifests/crd.yaml" "$tmp/chaos-mesh-crd.yaml"
	mkdir -p "$CHAOS_MESH_CACHE_DIR/bin" "$CHAOS_MESH_CACHE_DIR/crds"
	mv -f "$tmp/chaos-mesh-crd.yaml" "$CHAOS_MESH_CRDS"
	mv -f "$tmp/chaos-controller-manager" "$CHAOS_MESH_BIN"
	rmdir "$tmp"
	log "built in $(($(now_ms) - started)) ms"
}

# ---------------------------------------------------------------- processes

# lock_state serialises start and stop of one state dir, so that concurrent
# callers (test binaries, a developer's shell) never tear down a start in
# progress. The lock file sits beside the dir because stop removes the dir.
lock_state() {
	[[ ${CHAOSOPS_TESTENV_LOCKED:-} == 1 ]] && return 0
	exec 9>"$DIR.lock"
	flock -w $((TIMEOUT * 3)) 9 ||
		die "another start or stop of $DIR has held $DIR.lock for $((TIMEOUT * 3))s"
}

pid_file() { echo "$DIR/pids/$1.pid"; }

# pid_of NAME prints the pid of our process NAME if it is alive. Its command
# line must mention the state dir, so a recycled pid is never mistaken for ours.
pid_of() {
	local f pid
	f=$(pid_file "$1")
	[[ -f $f ]] || return 1
	pid=$(<"$f")
	[[ $pid =~ ^[0-9]+$ ]] || return 1
	[[ -r /proc/$pid/cmdline ]] || return 1
	tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$DIR/" || return 1
	echo "$pid"
}

# exited PID succeeds when the process is gone or a zombie whose threads
# have all exited: nobody may reap it here (PID 1 of a container need not),
# and a multi-threaded process's leader is a zombie before its other
# threads have released its sockets.
exited() {
	[[ -e /proc/$1 ]] || return 0
	[[ $(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) == Z ]] || return 1
	local tasks=("/proc/$1/task"/*)
	((${#tasks[@]} <= 1))
}

# kill_all SIGKILLs our processes and returns when they are gone and the
# ports they listened on are free, so that a start right after succeeds.
kill_all() {
	local name pid deadline killed=0
	for name in "${PROCESSES[@]}"; do
		pid=$(pid_of "$name") || continue
		kill -KILL "$pid"
		killed=1
		# Wait until it is gone, so its ports are free for the next start.
		deadline=$(($(now_ms) + 10000))
		while ! exited "$pid"; do
			(($(now_ms) < deadline)) || die "$name (pid $pid) did not exit after SIGKILL"
			sleep 0.02
		done
		rm -f "$(pid_file "$name")"
	done
	((killed)) && wait_ports_free
	return 0
}

# wait_ports_free returns when none of the ports is listened on any more,
# and fails naming the port still in use after 10 s.
wait_ports_free() {
	local var port deadline=$(($(now_ms) + 10000))
	for var in $(ports); do
		port=${!var}
		while port_in_use "$port"; do
			(($(now_ms) < deadline)) ||
				die "port $port (CHAOSOPS_TESTENV_$var) is still in use 10 s after the processes were killed; find its owner with: ss -ltnp 'sport = :$port'"
			sleep 0.05
		done
	done
}

remove_state() {
	[[ -e $DIR ]] || return 0
	[[ -n $DIR && $DIR != / ]] || die "refusing to remove state dir '$DIR'"
	if [[ ! -e $DIR/$MARKER ]] && [[ -n $(ls -A "$DIR") ]]; then
		die "$DIR is not empty and has no $MARKER file; not removing it (set CHAOSOPS_TESTENV_DIR elsewhere)"
	fi
	rm -rf "$DIR"
}

# launch NAME ARGS... starts a process in its own session (so Ctrl-C in the
# caller's terminal does not reach it), logging to $DIR/logs/NAME.log. It
# does not inherit the lock fds 7, 8 and 9, or the locks would outlive the script.
launch() {
	local name=$1 exe=$BIN/$1
	shift
	[[ -x $exe ]] || exe=$DIR/bin-local/$name
	spawn "$name" "$exe" "$@"
}

# spawn NAME CMD... is launch with the command spelled out (CMD may be
# `env -i VAR=... EXE`: env execs EXE, so the pid stays the same).
spawn() {
	local name=$1
	shift
	setsid "$@" >"$DIR/logs/$name.log" 2>&1 </dev/null 7>&- 8>&- 9>&- &
	local pid=$! deadline
	echo "$pid" >"$(pid_file "$name")"
	# Not our job any more: no "Killed" notice when a later start or a
	# failure kills it.
	disown "$pid"
	# Until the forked shell has exec'd the command, its command line is
	# this script's, and pid_of would call it gone.
	deadline=$(($(now_ms) + 2000))
	until pid_of "$name" >/dev/null || [[ ! -e /proc/$pid ]] || (($(now_ms) > deadline)); do
		sleep 0.01
	done
}

fail_with_log() {
	local name=$1 why=$2
	log "$name: $why; last lines of $DIR/logs/$name.log:"
	tail -n 40 "$DIR/logs/$name.log" >&2 || log "(no log)"
	kill_all
	exit 1
}

# wait_until NAME DESCRIPTION CMD... polls CMD until it succeeds, failing fast
# with NAME's log when NAME exits or the timeout passes.
wait_until() {
	local name=$1 what=$2 deadline out
	shift 2
	deadline=$(($(now_ms) + TIMEOUT * 1000))
	until out=$("$@" 2>&1); do
		pid_of "$name" >/dev/null || fail_with_log "$name" "exited while waiting for $what"
		if (($(now_ms) >= deadline)); then
			log "last check ($*) said: $out"
			fail_with_log "$name" "no $what after ${TIMEOUT}s"
		fi
		sleep 0.1
	done
}

# kubectl_wait NAME DESCRIPTION ARGS... runs kubectl wait ARGS, failing with
# NAME's log when it times out. (kubectl wait's --timeout covers all the
# objects together, so it cannot be polled in short slices.)
kubectl_wait() {
	local name=$1 what=$2 out
	shift 2
	if ! out=$(kubectl_ wait "$@" --timeout "${TIMEOUT}s" 2>&1); then
		log "kubectl wait $* said: $out"
		fail_with_log "$name" "no $what after ${TIMEOUT}s"
	fi
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# The ports start checks.
ports() {
	echo APISERVER_PORT ETCD_PORT ETCD_PEER_PORT DAEMON_PORT WEBHOOK_PORT CHAOS_METRICS_PORT
}

validate_ports() {
	local var port
	for var in $(ports); do
		port=${!var}
		if ! [[ $port =~ ^[0-9]{1,5}$ ]] || ((port < 1 || port > 65535)); then
			die "CHAOSOPS_TESTENV_$var: '$port' is not a port number (1-65535)"
		fi
	done
}

check_ports_free() {
	local var port
	for var in $(ports); do
		port=${!var}
		if port_in_use "$port"; then
			die "port $port is already in use by another process; set CHAOSOPS_TESTENV_$var to a free port"
		fi
	done
}

# kubectl_ bounds every request, so no step can hang past its timeout.
kubectl_() { "$BIN/kubectl" --kubeconfig "$DIR/kubeconfig" --request-timeout "${TIMEOUT}s" "$@"; }

# ---------------------------------------------------------------- certificates

gen_certs() {
	local c=$DIR/certs
	mkdir -p "$c"
	local ec=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
	openssl req -x509 "${ec[@]}" -keyout "$c/ca.key" -out "$c/ca.crt" -days 3650 \
		-subj "/CN=chaosops-testenv-ca" 2>/dev/null
	# sign NAME SUBJECT EXTENSIONS: a leaf certificate signed by the CA.
	sign() {
		openssl req "${ec[@]}" -keyout "$c/$1.key" -out "$c/$1.csr" -subj "$2" 2>/dev/null
		openssl x509 -req -in "$c/$1.csr" -CA "$c/ca.crt" -CAkey "$c/ca.key" -CAcreateserial \
			-days 3650 -out "$c/$1.crt" -extfile <(printf '%s\n' "$3") 2>/dev/null
		rm -f "$c/$1.csr"
	}
	sign apiserver "/CN=kube-apiserver" "basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=IP:127.0.0.1,IP:10.96.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local"
	sign admin "/O=system:masters/CN=chaosops-testenv-admin" "basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=clientAuth"
	openssl genrsa -out "$c/sa.key" 2048 2>/dev/null
	openssl rsa -in "$c/sa.key" -pubout -out "$c/sa.pub" 2>/dev/null
}

# gen_webhook_certs makes the serving certificate of Chaos Mesh's admission
# webhooks (CERTS_DIR: tls.crt, tls.key) under a CA of their own, whose
# ca.crt is the webhook configurations' caBundle. The apiserver calls them
# at https://127.0.0.1:$WEBHOOK_PORT.
gen_webhook_certs() {
	local c=$DIR/certs/chaos-mesh-webhook
	mkdir -p "$c"
	local ec=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
	openssl req -x509 "${ec[@]}" -keyout "$c/ca.key" -out "$c/ca.crt" -days 3650 \
		-subj "/CN=chaosops-testenv-chaos-mesh-webhook-ca" 2>/dev/null
	openssl req "${ec[@]}" -keyout "$c/tls.key" -out "$c/tls.csr" \
		-subj "/CN=chaos-mesh-controller-manager" 2>/dev/null
	openssl x509 -req -in "$c/tls.csr" -CA "$c/ca.crt" -CAkey "$c/ca.key" -CAcreateserial \
		-days 3650 -out "$c/tls.crt" -extfile <(printf '%s\n' "basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=IP:127.0.0.1,DNS:localhost") 2>/dev/null
	rm -f "$c/tls.csr"
}

write_kubeconfig() {
	local c=$DIR/certs
	# Written by hand (base64 data, not file paths) so the kubeconfig is
	# self-contained and readable from any working directory.
	cat >"$DIR/kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: chaosops-testenv
  cluster:
    server: https://127.0.0.1:$APISERVER_PORT
    certificate-authority-data: $(base64 -w0 "$c/ca.crt")
users:
- name: chaosops-testenv-admin
  user:
    client-certificate-data: $(base64 -w0 "$c/admin.crt")
    client-key-data: $(base64 -w0 "$c/admin.key")
contexts:
- name: chaosops-testenv
  context:
    cluster: chaosops-testenv
    user: chaosops-testenv-admin
current-context: chaosops-testenv
EOF
}

# ---------------------------------------------------------------- commands

cmd_start() {
	command -v openssl >/dev/null || die "openssl is not installed (apt-get install -y openssl)"
	[[ $CHAOS_MODE == real ]] ||
		die "CHAOSOPS_TESTENV_CHAOS: '$CHAOS_MODE': the controller stand-in is gone, the real Chaos Mesh controller always runs; unset it or set it to real"
	validate_ports
	local crds=$SHARED_DIR/crds
	[[ -r $crds/chaos-mesh-crd.yaml && -r $crds/servicemonitor-crd.yaml ]] ||
		die "pinned CRDs not found in $crds; set CHAOSOPS_SHARED_DIR to the dir holding crds/"
	build_kube
	# The controller runs against the CRDs of its own module version (our
	# typed API is checked against the pinned v2.8.3 ones too).
	build_chaos_mesh
	local chaos_crds=$CHAOS_MESH_CRDS

	local started
	started=$(now_ms)
	lock_state
	kill_all
	remove_state
	check_ports_free

	(
		umask 077
		mkdir -p "$DIR/pids" "$DIR/logs" "$DIR/etcd"
	)
	: >"$DIR/$MARKER"
	# Which Chaos Mesh controller runs (plugin/internal/testenv reads it).
	echo "$CHAOS_MODE" >"$DIR/chaos-mode"
	# Tests find the matching kubectl here (plugin/internal/testenv.Kubectl).
	ln -s "$BIN" "$DIR/bin"
	(
		umask 077
		gen_certs
		gen_webhook_certs
		write_kubeconfig
	)
	mark "state dir, certificates and kubeconfig written"
	local c=$DIR/certs
	trap stop_local_builds EXIT
	local_build chaos-daemon-standin

	launch etcd \
		--name testenv \
		--data-dir "$DIR/etcd" \
		--listen-client-urls "http://127.0.0.1:$ETCD_PORT" \
		--advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
		--listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
		--initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
		--initial-cluster "testenv=http://127.0.0.1:$ETCD_PEER_PORT" \
		--unsafe-no-fsync \
		--quota-backend-bytes 4294967296 \
		--log-level warn

	launch kube-apiserver \
		--etcd-servers "http://127.0.0.1:$ETCD_PORT" \
		--bind-address 127.0.0.1 \
		--advertise-address 127.0.0.1 \
		--secure-port "$APISERVER_PORT" \
		--tls-cert-file "$c/apiserver.crt" \
		--tls-private-key-file "$c/apiserver.key" \
		--client-ca-file "$c/ca.crt" \
		--authorization-mode RBAC \
		--service-account-issuer https://kubernetes.default.svc.cluster.local \
		--service-account-key-file "$c/sa.pub" \
		--service-account-signing-key-file "$c/sa.key" \
		--service-cluster-ip-range 10.96.0.0/16 \
		--endpoint-reconciler-type none \
		--disable-admission-plugins TaintNodesByCondition \
		--allow-privileged=true \
		--profiling=false

	# etcd is usually up before the apiserver needs it; the apiserver retries.
	wait_until etcd "etcd health" \
		curl_or_tcp "$ETCD_PORT"
	mark "etcd healthy"
	wait_until kube-apiserver "/readyz ok" kubectl_ get --raw /readyz
	mark "kube-apiserver ready"

	launch kube-controller-manager \
		--kubeconfig "$DIR/kubeconfig" \
		--leader-elect=false \
		--secure-port=0 \
		--service-account-private-key-file "$c/sa.key" \
		--root-ca-file "$c/ca.crt" \
		--cluster-signing-cert-file "$c/ca.crt" \
		--cluster-signing-key-file "$c/ca.key" \
		--use-service-account-credentials=false \
		--controllers '*,-node-ipam-controller,-node-lifecycle-controller,-persistentvolume-binder-controller,-persistentvolume-attach-detach-controller,-kube-apiserver-serving-clustertrustbundle-publisher-controller'

	launch kube-scheduler \
		--kubeconfig "$DIR/kubeconfig" \
		--leader-elect=false \
		--secure-port=0

	launch kwok \
		--kubeconfig "$DIR/kubeconfig" \
		--config "$CONFIG_DIR/kwok-stages.yaml" \
		--manage-all-nodes=false \
		--manage-nodes-with-annotation-selector kwok.x-k8s.io/node=fake \
		--node-ip 127.0.0.1 \
		--cidr 10.244.0.0/16

	# The node first: kwok makes it Ready while the large CRDs are applied.
	kubectl_ apply --server-side --field-manager chaosops-testenv \
		-f "$CONFIG_DIR/kwok-node.yaml" >"$DIR/logs/apply.log" 2>&1 ||
		fail_with_log apply "kubectl apply of the kwok node failed"
	kubectl_ apply --server-side --field-manager chaosops-testenv \
		-f "$chaos_crds" \
		-f "$crds/servicemonitor-crd.yaml" >>"$DIR/logs/apply.log" 2>&1 ||
		fail_with_log apply "kubectl apply of the CRDs failed"
	mark "node and CRDs applied"
	kubectl_wait kwok "node $NODE_NAME Ready" --for condition=Ready "node/$NODE_NAME"
	mark "node Ready"
	wait_until kube-apiserver "CRDs Established" crds_established
	mark "CRDs Established"
	# A namespace only becomes usable for pods once its default ServiceAccount exists.
	wait_until kube-controller-manager "default ServiceAccount" \
		kubectl_ get serviceaccount default --namespace default
	mark "default ServiceAccount exists"
	start_chaos_mesh
	for name in $(processes); do
		pid_of "$name" >/dev/null || fail_with_log "$name" "exited during start"
	done

	log "ready in $(($(now_ms) - started)) ms: https://127.0.0.1:$APISERVER_PORT, state in $DIR"
	cmd_env
}

# Pids of the background builds of local_build, by binary name.
declare -A LOCAL_BUILDS=()

# local_build NAME builds ./plugin/internal/cmd/NAME of this checkout into
# $DIR/bin-local in the background, while the control plane starts; the
# build log is $DIR/logs/NAME-build.log. await_local_build NAME waits for it.
local_build() {
	mkdir -p "$DIR/bin-local"
	(cd "$REPO_ROOT" && CGO_ENABLED=0 exec go build -trimpath -o "$DIR/bin-local/$1" "./plugin/internal/cmd/$1") \
		>"$DIR/logs/$1-build.log" 2>&1 </dev/null 7>&- 8>&- 9>&- &
	LOCAL_BUILDS[$1]=$!
}

await_local_build() {
	local pid=${LOCAL_BUILDS[$1]}
	unset "LOCAL_BUILDS[$1]"
	wait "$pid" || fail_with_log "$1-build" "go build of ./plugin/internal/cmd/$1 failed"
}

# stop_local_builds ends the builds a failed start leaves running.
stop_local_builds() {
	local pid
	for pid in "${LOCAL_BUILDS[@]}"; do
		if kill -TERM "$pid" 2>/dev/null; then
			# Killed on purpose: its exit status tells nothing.
			wait "$pid" 2>/dev/null || :
		fi
	done
	LOCAL_BUILDS=()
}

# processes prints the processes of a running instance.
processes() {
	echo etcd kube-apiserver kube-controller-manager kube-scheduler kwok chaos-controller-manager chaos-daemon-standin
}

# chaos_mesh_env prints the environment of the real controller-manager, one
# NAME=VALUE a line: what the chart's controller-manager Deployment sets
# (templates/controller-manager-deployment.yaml) with the values of our
# bundle (manifests/chaos-mesh/values.yaml), then what differs out of
# cluster. No CHAOS_MESH_CA_CERT / CHAOS_DAEMON_CLIENT_*: plain gRPC to
# chaos-daemon (the chart's chaosDaemon.mtls.enabled=false).
chaos_mesh_env() {
	cat <<EOF
NAMESPACE=$CHAOS_NAMESPACE
ALLOW_HOST_NETWORK_TESTING=false
TARGET_NAMESPACE=$CHAOS_NAMESPACE
QPS=30
BURST=50
CLUSTER_SCOPED=true
TZ=UTC
CHAOS_DAEMON_SERVICE_PORT=$DAEMON_PORT
BPFKI_PORT=50051
ENABLED_CONTROLLERS=*
ENABLED_WEBHOOKS=*
ENABLE_FILTER_NAMESPACE=true
CHAOS_DNS_SERVICE_NAME=chaos-mesh-dns-server
CHAOS_DNS_SERVICE_PORT=9288
SECURITY_MODE=true
CHAOSD_SECURITY_MODE=false
POD_FAILURE_PAUSE_IMAGE=gcr.io/google-containers/pause:latest
ENABLE_LEADER_ELECTION=false
WEBHOOK_HOST=127.0.0.1
WEBHOOK_PORT=$WEBHOOK_PORT
METRICS_HOST=127.0.0.1
METRICS_PORT=$CHAOS_METRICS_PORT
CERTS_DIR=$DIR/certs/chaos-mesh-webhook
PPROF_ADDR=0
EOF
}

# chaos_mesh_workloads prints chaos-mesh-workloads.yaml with the controller
# Deployment's env replaced by the real controller's, so that what preflight
# reads there (ENABLE_FILTER_NAMESPACE) is what the controller does.
chaos_mesh_workloads() {
	awk -v env="$(chaos_mesh_env)" '
		/^ *- name: ENABLE_FILTER_NAMESPACE$/ {
			indent = $0
			sub(/-.*/, "", indent)
			n = split(env, lines, "\n")
			for (i = 1; i <= n; i++) {
				eq = index(lines[i], "=")
				printf "%s- name: %s\n%s  value: \"%s\"\n", indent, substr(lines[i], 1, eq - 1), indent, substr(lines[i], eq + 1)
			}
			replaced = 1
			getline # its value: line
			next
		}
		{ print }
		END { if (!replaced) exit 1 }
	' "$CONFIG_DIR/chaos-mesh-workloads.yaml"
}

# The chart's webhook.CRDS (values.yaml): one mutating and one validating
# webhook each.
readonly CHAOS_MESH_WEBHOOK_KINDS=(podchaos iochaos timechaos networkchaos kernelchaos stresschaos
	awschaos azurechaos gcpchaos dnschaos jvmchaos schedule workflow httpchaos blockchaos
	physicalmachinechaos physicalmachine statuscheck remotecluster)

# webhook_resource KIND prints the resource the chart's rule names for KIND:
# four get a plural, the others keep the kind (remotecluster too, so that
# rule matches nothing, as in the chart).
webhook_resource() {
	case $1 in
	schedule | workflow | physicalmachine | statuscheck) echo "${1}s" ;;
	*) echo "$1" ;;
	esac
}

# webhook NAME PATH RESOURCE prints one webhook entry as the chart renders
# it, but called by URL on 127.0.0.1 instead of through a Service.
webhook() {
	cat <<EOF
  - name: $1
    clientConfig:
      url: https://127.0.0.1:$WEBHOOK_PORT$2
      caBundle: $(base64 -w0 "$DIR/certs/chaos-mesh-webhook/ca.crt")
    failurePolicy: Fail
    timeoutSeconds: 5
    sideEffects: None
    admissionReviewVersions: [v1, v1beta1]
    rules:
      - apiGroups: [chaos-mesh.org]
        apiVersions: [v1alpha1]
        operations: [CREATE, UPDATE]
        resources: ["$3"]
EOF
}

# webhook_configuration KIND NAME prints the head of a webhook configuration.
webhook_configuration() {
	cat <<EOF
---
apiVersion: admissionregistration.k8s.io/v1
kind: $1
metadata:
  name: $2
  labels:
    app.kubernetes.io/name: chaos-mesh
    app.kubernetes.io/component: admission-webhook
webhooks:
EOF
}

# chaos_mesh_webhooks prints the chart's MutatingWebhookConfiguration
# chaos-mesh-mutation and ValidatingWebhookConfigurations
# chaos-mesh-validation and chaos-mesh-validation-auth
# (templates/mutating-admission-webhooks.yaml and
# validating-admission-webhooks.yaml).
chaos_mesh_webhooks() {
	local kind
	webhook_configuration MutatingWebhookConfiguration chaos-mesh-mutation
	for kind in "${CHAOS_MESH_WEBHOOK_KINDS[@]}"; do
		webhook "m$kind.kb.io" "/mutate-chaos-mesh-org-v1alpha1-$kind" "$(webhook_resource "$kind")"
	done
	webhook_configuration ValidatingWebhookConfiguration chaos-mesh-validation
	for kind in "${CHAOS_MESH_WEBHOOK_KINDS[@]}"; do
		webhook "v$kind.kb.io" "/validate-chaos-mesh-org-v1alpha1-$kind" "$(webhook_resource "$kind")"
	done
	webhook_configuration ValidatingWebhookConfiguration chaos-mesh-validation-auth
	webhook vauth.kb.io /validate-auth '*'
}

# webhook_denies succeeds when the real validating webhook denies an
# HTTPChaos whose duration is no duration (a string to the CRD schema, so
# only the webhook refuses it): the controller serves and the apiserver
# calls it.
webhook_denies() {
	local out
	out=$(kubectl_ create --dry-run=server -o name -f - 2>&1 <<EOF
apiVersion: chaos-mesh.org/v1alpha1
kind: HTTPChaos
metadata:
  name: testenv-webhook-probe
  namespace: $CHAOS_NAMESPACE
spec:
  mode: all
  selector:
    namespaces: [$CHAOS_NAMESPACE]
  target: Request
  port: 80
  duration: not-a-duration
EOF
	)
	if ! grep -q 'admission webhook "vhttpchaos.kb.io" denied the request' <<<"$out"; then
		echo "$out"
		return 1
	fi
}

# controllers_started succeeds once the controller-manager has logged
# "Starting workers" for every controller it logged "Starting Controller"
# for (46 with ENABLED_CONTROLLERS=*), and for the HTTPChaos ones among them.
controllers_started() {
	local log=$DIR/logs/chaos-controller-manager.log started workers
	read -r started workers < <(awk '/Starting Controller/ { s++ } /Starting workers/ { w++ }
		END { print s + 0, w + 0 }' "$log")
	((workers > 0 && workers == started)) || {
		echo "$workers of $started controllers have started their workers"
		return 1
	}
	grep -q 'Starting workers.*"controller": "httpchaos-pipeline"' "$log" &&
		grep -q 'Starting workers.*"controller": "podhttpchaos"' "$log"
}

# start_chaos_mesh runs Chaos Mesh's own controller-manager out of cluster,
# with its admission webhooks registered by URL. First the chaos-mesh
# namespace workloads (for preflight; no Service, so they publish no
# chaos-daemon-* EndpointSlice), then the chaos-daemon stand-in
# (plugin/internal/cmd/chaos-daemon-standin), then the controller.
start_chaos_mesh() {
	local workloads
	workloads=$(chaos_mesh_workloads) ||
		die "no ENABLE_FILTER_NAMESPACE env in $CONFIG_DIR/chaos-mesh-workloads.yaml"
	kubectl_ apply --server-side --field-manager chaosops-testenv -f - <<<"$workloads" >>"$DIR/logs/apply.log" 2>&1 ||
		fail_with_log apply "kubectl apply of the Chaos Mesh workloads failed"
	await_local_build chaos-daemon-standin
	mark "chaos-daemon stand-in built"
	launch chaos-daemon-standin \
		--kubeconfig "$DIR/kubeconfig" \
		--listen "127.0.0.1:$DAEMON_PORT" \
		--namespace "$CHAOS_NAMESPACE" \
		--node "$NODE_NAME" \
		--ready-file "$DIR/chaos-daemon-standin.ready"
	wait_until chaos-daemon-standin "chaos-daemon stand-in ready" test -e "$DIR/chaos-daemon-standin.ready"
	mark "chaos-daemon stand-in ready"

	local env
	mapfile -t env < <(chaos_mesh_env)
	# env -i: nothing of the caller's environment (KUBECONFIG, a stray
	# NAMESPACE or WEBHOOK_PORT) reaches the controller.
	spawn chaos-controller-manager env -i "${env[@]}" "$CHAOS_MESH_BIN" --kubeconfig "$DIR/kubeconfig"
	# Registered at once: until the controller serves, chaos objects are
	# refused (failurePolicy Fail), and start does not return before it does.
	chaos_mesh_webhooks >"$DIR/chaos-mesh-webhooks.yaml"
	kubectl_ apply --server-side --field-manager chaosops-testenv \
		-f "$DIR/chaos-mesh-webhooks.yaml" >>"$DIR/logs/apply.log" 2>&1 ||
		fail_with_log apply "kubectl apply of the Chaos Mesh webhook configurations failed"
	wait_until chaos-controller-manager "admission webhook denying an invalid HTTPChaos" webhook_denies
	mark "Chaos Mesh controller-manager: webhooks serve"
	wait_until chaos-controller-manager "controllers started" controllers_started
	mark "Chaos Mesh controller-manager: controllers started"
	kubectl_wait kwok "Chaos Mesh controller Deployment available" --namespace "$CHAOS_NAMESPACE" \
		--for condition=Available deployment/chaos-controller-manager
	mark "Chaos Mesh controller Deployment available"
}

# crds_established succeeds when every CRD is Established, else prints the
# ones that are not. (One list instead of kubectl wait, which spends ~0.1 s
# per CRD even when all are Established.)
crds_established() {
	local out
	out=$(kubectl_ get crd -o jsonpath='{range .items[*]}{.metadata.name}={.status.conditions[?(@.type=="Established")].status}{"\n"}{end}') ||
		return 1
	[[ -n $out ]] || return 1
	! grep -v '=True$' <<<"$out"
}

# curl_or_tcp PORT succeeds when etcd answers /health.
curl_or_tcp() {
	if command -v curl >/dev/null; then
		curl -fsS --max-time 5 "http://127.0.0.1:$1/health" | grep -q '"health":"true"'
	else
		port_in_use "$1"
	fi
}

cmd_stop() {
	lock_state
	kill_all
	remove_state
	log "stopped; removed $DIR"
}

cmd_env() {
	printf 'export CHAOSOPS_TESTENV_DIR=%q\n' "$DIR"
	printf 'export KUBECONFIG=%q\n' "$DIR/kubeconfig"
}

cmd_status() {
	local name expected missing=()
	read -ra expected <<<"$(processes | tr '\n' ' ')"
	for name in "${expected[@]}"; do
		pid_of "$name" >/dev/null || missing+=("$name")
	done
	if ((${#missing[@]} == ${#expected[@]})); then
		echo "not running (state dir $DIR)"
		return 3
	fi
	if ((${#missing[@]} > 0)); then
		echo "degraded: not running: ${missing[*]} (logs in $DIR/logs; restart with: $0 start)"
		return 3
	fi
	if ! have_binaries || ! kubectl_ get --raw /readyz >/dev/null 2>&1; then
		echo "degraded: kube-apiserver /readyz fails (logs in $DIR/logs)"
		return 3
	fi
	echo "running: https://127.0.0.1:$APISERVER_PORT, KUBECONFIG=$DIR/kubeconfig, the real Chaos Mesh controller $CHAOS_MESH_VERSION"
}

usage() {
	sed -n '2,/^# See/p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
	exit 2
}

main() {
	(($# == 1)) || usage
	case $1 in
	build) cmd_build ;;
	start) cmd_start ;;
	stop) cmd_stop ;;
	env) cmd_env ;;
	status) cmd_status ;;
	*) usage ;;
	esac
}

main "$@"
