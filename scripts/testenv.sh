#!/usr/bin/env bash
# scripts/testenv.sh: a real, throwaway Kubernetes control plane for tests.
#
#   build   build the pinned binaries into a versioned cache dir (skipped when present)
#   start   build if needed, then start a fresh, empty cluster: etcd, kube-apiserver,
#           kube-controller-manager, kube-scheduler, kwok with one Ready fake node,
#           the pinned Chaos Mesh and ServiceMonitor CRDs; any previous instance is
#           killed and its state removed first
#   stop    kill the processes of the running instance and remove its state dir
#   env     print the exports that point kubectl and tests at the cluster
#   status  exit 0 if the cluster is running and ready, 3 if it is not
#
# Environment (all optional):
#   CHAOSOPS_TESTENV_DIR            state dir: pids, logs, certs, kubeconfig (/tmp/chaosops-testenv)
#   CHAOSOPS_CACHE                  binary cache root ($HOME/.cache/chaosops)
#   CHAOSOPS_SHARED_DIR             dir holding crds/ (<repo>/../shared)
#   CHAOSOPS_TESTENV_APISERVER_PORT kube-apiserver secure port (36443)
#   CHAOSOPS_TESTENV_ETCD_PORT      etcd client port (32379)
#   CHAOSOPS_TESTENV_ETCD_PEER_PORT etcd peer port (32380)
#   CHAOSOPS_TESTENV_TIMEOUT        seconds to wait for each readiness step (60)
#   CHAOSOPS_TESTENV_LOCKED=1       the caller already holds the flock on $CHAOSOPS_TESTENV_DIR.lock
#                                   (plugin/internal/testenv does); start and stop otherwise take it
#
# See scripts/testenv/README.md.
set -euo pipefail

readonly KUBE_VERSION=v1.37.2
readonly ETCD_VERSION=v3.7.0
readonly KWOK_VERSION=v0.8.0

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
readonly REPO_ROOT
readonly TOOLS_DIR=$REPO_ROOT/scripts/testenv/tools
readonly CONFIG_DIR=$REPO_ROOT/scripts/testenv
readonly SHARED_DIR=${CHAOSOPS_SHARED_DIR:-$REPO_ROOT/../shared}
readonly CACHE_DIR=${CHAOSOPS_CACHE:-$HOME/.cache/chaosops}/kube-$KUBE_VERSION-etcd-$ETCD_VERSION-kwok-$KWOK_VERSION
readonly BIN=$CACHE_DIR/bin
readonly DIR=${CHAOSOPS_TESTENV_DIR:-/tmp/chaosops-testenv}
readonly APISERVER_PORT=${CHAOSOPS_TESTENV_APISERVER_PORT:-36443}
readonly ETCD_PORT=${CHAOSOPS_TESTENV_ETCD_PORT:-32379}
readonly ETCD_PEER_PORT=${CHAOSOPS_TESTENV_ETCD_PEER_PORT:-32380}
readonly TIMEOUT=${CHAOSOPS_TESTENV_TIMEOUT:-60}

readonly BINARIES=(kube-apiserver kube-controller-manager kube-scheduler kubectl etcd kwok)
# Stop order: clients first, etcd last (an apiserver without etcd hangs retrying).
readonly PROCESSES=(chaos-controller-standin kwok kube-scheduler kube-controller-manager kube-apiserver etcd)
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

kill_all() {
	local name pid deadline
	for name in "${PROCESSES[@]}"; do
		pid=$(pid_of "$name") || continue
		kill -KILL "$pid"
		# Wait until it is gone, so its ports are free for the next start.
		deadline=$(($(now_ms) + 10000))
		while [[ -e /proc/$pid ]] && [[ $(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) != Z ]]; do
			(($(now_ms) < deadline)) || die "$name (pid $pid) did not exit after SIGKILL"
			sleep 0.02
		done
		rm -f "$(pid_file "$name")"
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
# does not inherit the lock fds 8 and 9, or the locks would outlive the script.
launch() {
	local name=$1 exe=$BIN/$1
	shift
	[[ -x $exe ]] || exe=$DIR/bin-local/$name
	setsid "$exe" "$@" >"$DIR/logs/$name.log" 2>&1 </dev/null 8>&- 9>&- &
	echo $! >"$(pid_file "$name")"
	# Not our job any more: no "Killed" notice when a later start or a
	# failure kills it.
	disown $!
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

validate_ports() {
	local var port
	for var in APISERVER_PORT ETCD_PORT ETCD_PEER_PORT; do
		port=${!var}
		if ! [[ $port =~ ^[0-9]{1,5}$ ]] || ((port < 1 || port > 65535)); then
			die "CHAOSOPS_TESTENV_$var: '$port' is not a port number (1-65535)"
		fi
	done
}

check_ports_free() {
	local var port
	for var in APISERVER_PORT ETCD_PORT ETCD_PEER_PORT; do
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
	validate_ports
	local crds=$SHARED_DIR/crds
	[[ -r $crds/chaos-mesh-crd.yaml && -r $crds/servicemonitor-crd.yaml ]] ||
		die "pinned CRDs not found in $crds; set CHAOSOPS_SHARED_DIR to the dir holding crds/"
	cmd_build

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
	# Tests find the matching kubectl here (plugin/internal/testenv.Kubectl).
	ln -s "$BIN" "$DIR/bin"
	(
		umask 077
		gen_certs
		write_kubeconfig
	)
	mark "state dir, certificates and kubeconfig written"
	local c=$DIR/certs

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
		-f "$crds/chaos-mesh-crd.yaml" \
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
	start_chaos_mesh_standin
	mark "Chaos Mesh stand-in ready"
	for name in kube-scheduler kwok chaos-controller-standin; do
		pid_of "$name" >/dev/null || fail_with_log "$name" "exited during start"
	done

	log "ready in $(($(now_ms) - started)) ms: https://127.0.0.1:$APISERVER_PORT, state in $DIR"
	cmd_env
}

# start_chaos_mesh_standin makes the cluster look like one with Chaos Mesh
# installed: the chaos-mesh namespace with the controller Deployment and the
# chaos-daemon DaemonSet (kwok runs their pods, so preflight checks see them
# Running), and the controller stand-in (plugin/chaos/controllerstandin),
# built from this repository, driving the status of chaos objects. No fault
# is injected: chaos-daemon cannot run here.
start_chaos_mesh_standin() {
	mkdir -p "$DIR/bin-local"
	(cd "$REPO_ROOT" && CGO_ENABLED=0 go build -trimpath -o "$DIR/bin-local/chaos-controller-standin" ./plugin/cmd/chaos-controller-standin) \
		>"$DIR/logs/chaos-controller-standin-build.log" 2>&1 ||
		fail_with_log chaos-controller-standin-build "go build of the stand-in failed"
	kubectl_ apply --server-side --field-manager chaosops-testenv \
		-f "$CONFIG_DIR/chaos-mesh-standin.yaml" >>"$DIR/logs/apply.log" 2>&1 ||
		fail_with_log apply "kubectl apply of the Chaos Mesh stand-in workloads failed"
	launch chaos-controller-standin \
		--kubeconfig "$DIR/kubeconfig" \
		--ready-file "$DIR/chaos-controller-standin.ready"
	wait_until chaos-controller-standin "stand-in ready" test -e "$DIR/chaos-controller-standin.ready"
	kubectl_wait kwok "Chaos Mesh controller Deployment available" --namespace chaos-mesh \
		--for condition=Available deployment/chaos-controller-manager
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
	local name missing=()
	for name in "${PROCESSES[@]}"; do
		pid_of "$name" >/dev/null || missing+=("$name")
	done
	if ((${#missing[@]} == ${#PROCESSES[@]})); then
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
	echo "running: https://127.0.0.1:$APISERVER_PORT, KUBECONFIG=$DIR/kubeconfig"
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
