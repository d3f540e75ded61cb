# Shared helpers for the engine scripts. Sourced, not run.
# shellcheck shell=bash

STAGESCOPE_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
STAGESCOPE_CACHE=${STAGESCOPE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/stagescope}
STAGESCOPE_STATE=${STAGESCOPE_STATE:-/var/lib/stagescope}
STAGESCOPE_RUN=${STAGESCOPE_RUN:-/run/stagescope}

log() { printf '%s: %s\n' "$(basename "$0")" "$*" >&2; }
die() { log "$*"; exit 1; }

need_root() {
	[ "$(id -u)" = 0 ] || die "must run as root (it installs packages and starts a daemon)"
}

apt_updated=
# ensure_pkg CMD PACKAGE: install Debian's PACKAGE when CMD is not on PATH.
ensure_pkg() {
	local cmd=$1 pkg=$2
	if command -v "$cmd" >/dev/null 2>&1 || [ -x "/usr/sbin/$cmd" ] || [ -x "/usr/bin/$cmd" ]; then
		return 0
	fi
	need_root
	log "installing Debian package $pkg"
	if [ -z "$apt_updated" ]; then
		apt-get update -qq >/dev/null || die "apt-get update failed"
		apt_updated=1
	fi
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$pkg" >/dev/null ||
		die "apt-get install $pkg failed"
}

# wait_for SECONDS CMD...: retry CMD every 0.2 s until it succeeds or time runs out.
wait_for() {
	local deadline=$((SECONDS + $1)); shift
	until "$@" >/dev/null 2>&1; do
		[ $SECONDS -lt $deadline ] || return 1
		sleep 0.2
	done
}

# pid_alive FILE: the process whose PID is in FILE is running.
pid_alive() {
	[ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null
}

# stop_pid FILE: stop the process in FILE, politely then firmly.
stop_pid() {
	local f=$1 pid
	pid_alive "$f" || { rm -f "$f"; return 0; }
	pid=$(cat "$f")
	kill "$pid" 2>/dev/null
	for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
	kill -9 "$pid" 2>/dev/null
	rm -f "$f"
}

# lock NAME: hold an exclusive lock for the rest of the script, so that
# concurrent callers (parallel test packages) wait instead of racing.
# The lock lives on descriptor 9: anything started in the background must
# close it (9>&-), or the lock outlives the script and every later caller
# waits forever. The wait is bounded (STAGESCOPE_LOCK_WAIT seconds, default
# 1200: the first buildkit build on a slow machine) and says who holds it.
lock() {
	mkdir -p "$STAGESCOPE_RUN" 2>/dev/null || STAGESCOPE_RUN=${TMPDIR:-/tmp}/stagescope-run
	mkdir -p "$STAGESCOPE_RUN"
	local f=$STAGESCOPE_RUN/$1.lock
	exec 9>"$f"
	flock -w "${STAGESCOPE_LOCK_WAIT:-1200}" 9 ||
		die "gave up waiting for $f after ${STAGESCOPE_LOCK_WAIT:-1200} s; held by: $(fuser "$f" 2>/dev/null || echo unknown)"
}
