#!/usr/bin/env bash
# scripts/prometheus.sh: a real, throwaway Prometheus for tests and the demo.
#
#   start DIR TARGET...  start /usr/bin/prometheus (Debian package `prometheus`) on
#                        127.0.0.1, scraping every TARGET every second, with its
#                        config, TSDB, log and pid file in DIR; waits for /-/ready
#                        and prints the URL (also written to DIR/url). An instance
#                        already running from DIR is stopped first and its data
#                        removed, so every start is empty.
#   stop DIR             stop the instance started from DIR (SIGTERM, then SIGKILL
#                        after 10 s); its log stays in DIR/prometheus.log
#
# A TARGET is host:port (scraped at /metrics) or a URL such as
# http://127.0.0.1:8080/metrics (scheme and path are kept).
#
# Environment (all optional):
#   CHAOSOPS_PROMETHEUS_SCRAPE_CONFIGS  a YAML file holding the list of
#                                scrape configs to use instead of TARGETs (e.g.
#                                with relabel_configs); start then takes none
#   CHAOSOPS_PROMETHEUS_PORT     listen port (39090)
#   CHAOSOPS_PROMETHEUS_BIN      the binary (prometheus on PATH, else /usr/bin/prometheus)
#   CHAOSOPS_PROMETHEUS_TIMEOUT  seconds to wait for /-/ready (30)
#
# The Debian package's own systemd service is never used: this script runs its
# own process on its own port with its own config.
set -euo pipefail

readonly PORT=${CHAOSOPS_PROMETHEUS_PORT:-39090}
readonly TIMEOUT=${CHAOSOPS_PROMETHEUS_TIMEOUT:-30}
# Marks a directory as ours, so start never removes data anywhere else.
readonly MARKER=.chaosops-prometheus

log() { printf 'prometheus.sh: %s\n' "$*" >&2; }
die() {
	log "error: $*"
	exit 1
}

usage() {
	sed -n '2,/^set -euo/p' "$0" | sed -e '/^set -euo/d' -e 's/^# \{0,1\}//' >&2
	exit 2
}

binary() {
	if [[ -n ${CHAOSOPS_PROMETHEUS_BIN:-} ]]; then
		echo "$CHAOSOPS_PROMETHEUS_BIN"
	elif command -v prometheus >/dev/null; then
		command -v prometheus
	elif [[ -x /usr/bin/prometheus ]]; then
		echo /usr/bin/prometheus
	else
		die "prometheus is not installed; run: apt-get install -y prometheus"
	fi
}

# pid_of DIR prints the pid of the Prometheus started from DIR, if it still runs.
pid_of() {
	local pid
	pid=$(cat "$1/prometheus.pid" 2>/dev/null) || return 1
	[[ $pid =~ ^[0-9]+$ ]] || return 1
	# A recycled pid is not ours: the command line must name our config.
	tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "--config.file=$1/prometheus.yml" || return 1
	echo "$pid"
}

# alive PID: the process exists and is not a zombie (a container's init may
# be slow to reap the orphans this script leaves).
alive() { [[ -e /proc/$1 ]] && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null; }

# target_config TARGET prints one static_config entry for TARGET.
target_config() {
	local t=$1 scheme=http rest path=/metrics
	if [[ $t == *://* ]]; then
		scheme=${t%%://*}
		rest=${t#*://}
	else
		rest=$t
	fi
	if [[ $rest == */* ]]; then
		path=/${rest#*/}
		[[ $path == / ]] && path=/metrics
		rest=${rest%%/*}
	fi
	[[ $scheme == http || $scheme == https ]] || die "target $t: scheme $scheme is not http or https"
	[[ -n $rest ]] || die "target $t: no host:port"
	printf '      - targets: ["%s"]\n        labels: {__scheme__: "%s", __metrics_path__: "%s"}\n' "$rest" "$scheme" "$path"
}

cmd_start() {
	local dir=$1 bin pid url deadline
	shift
	local scrape=${CHAOSOPS_PROMETHEUS_SCRAPE_CONFIGS:-}
	if [[ -n $scrape ]]; then
		[[ -r $scrape ]] || die "CHAOSOPS_PROMETHEUS_SCRAPE_CONFIGS: cannot read $scrape"
		(($# == 0)) || die "start: give TARGETs or CHAOSOPS_PROMETHEUS_SCRAPE_CONFIGS, not both"
	else
		(($# > 0)) || die "start: give at least one TARGET to scrape"
	fi
	bin=$(binary)
	mkdir -p "$dir"
	dir=$(cd "$dir" && pwd)
	cmd_stop "$dir"
	[[ ! -e $dir/data || -e $dir/$MARKER ]] || die "$dir/data exists and was not made by this script; use another DIR"
	rm -rf "$dir/data"
	touch "$dir/$MARKER"
	{
		printf 'global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n'
		if [[ -n $scrape ]]; then
			printf 'scrape_configs:\n'
			cat "$scrape"
		else
			printf 'scrape_configs:\n  - job_name: chaosops\n    static_configs:\n'
			local t
			for t in "$@"; do
				target_config "$t"
			done
		fi
	} >"$dir/prometheus.yml"

	setsid "$bin" --config.file="$dir/prometheus.yml" --storage.tsdb.path="$dir/data" \
		--web.listen-address="127.0.0.1:$PORT" --log.level=warn \
		>"$dir/prometheus.log" 2>&1 </dev/null &
	pid=$!
	echo "$pid" >"$dir/prometheus.pid"
	disown "$pid"

	url=http://127.0.0.1:$PORT
	deadline=$((SECONDS + TIMEOUT))
	until curl -fsS -o /dev/null "$url/-/ready" 2>/dev/null; do
		if ! alive "$pid"; then
			log "prometheus exited; last lines of $dir/prometheus.log:"
			tail -n 20 "$dir/prometheus.log" >&2
			rm -f "$dir/prometheus.pid"
			exit 1
		fi
		if ((SECONDS >= deadline)); then
			log "not ready after ${TIMEOUT}s; last lines of $dir/prometheus.log:"
			tail -n 20 "$dir/prometheus.log" >&2
			cmd_stop "$dir"
			exit 1
		fi
		sleep 0.1
	done
	echo "$url" >"$dir/url"
	echo "$url"
}

cmd_stop() {
	local dir=$1 pid i
	pid=$(pid_of "$dir") || {
		rm -f "$dir/prometheus.pid"
		return 0
	}
	kill -TERM "$pid"
	for ((i = 0; i < 100; i++)); do
		alive "$pid" || break
		sleep 0.1
	done
	if alive "$pid"; then
		log "pid $pid did not stop within 10s of SIGTERM; killing it"
		kill -KILL "$pid"
	fi
	rm -f "$dir/prometheus.pid" "$dir/url"
}

(($# >= 2)) || usage
case $1 in
start) cmd_start "${@:2}" ;;
stop)
	(($# == 2)) || usage
	[[ -d $2 ]] || exit 0
	cmd_stop "$(cd "$2" && pwd)"
	;;
*) usage ;;
esac
