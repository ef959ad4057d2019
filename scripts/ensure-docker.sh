#!/usr/bin/env bash
# Make a Docker daemon reachable: use a running one, else start an installed
# dockerd, else (as root on Debian/Ubuntu) install Debian's docker.io and start it.
# Anything else gets a clear explanation instead of a silent failure.
set -euo pipefail

log() { printf 'ensure-docker: %s\n' "$*" >&2; }

daemon_up() { docker info >/dev/null 2>&1; }

if command -v docker >/dev/null 2>&1 && daemon_up; then
  exit 0
fi

if [ "$(id -u)" != 0 ]; then
  log "no Docker daemon is reachable and this script is not root."
  log "Start Docker yourself (e.g. 'sudo systemctl start docker'), add your user to the"
  log "'docker' group, or use '--runner local' for a self-check without Docker."
  exit 1
fi

if ! command -v dockerd >/dev/null 2>&1; then
  if ! command -v apt-get >/dev/null 2>&1; then
    log "dockerd is not installed and this is not a Debian-like system; install Docker Engine."
    exit 1
  fi
  log "installing Debian's docker.io (one time, about a minute)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends docker.io iptables >/dev/null
fi

start_dockerd() {
  # A dockerd that is still shutting down holds the pid file: wait for it to go.
  for _ in $(seq 1 30); do
    pgrep -x dockerd >/dev/null 2>&1 || break
    sleep 1
  done
  if [ -f /var/run/docker.pid ] && ! kill -0 "$(cat /var/run/docker.pid 2>/dev/null)" 2>/dev/null; then
    rm -f /var/run/docker.pid   # stale: its daemon is gone
  fi
  log "starting dockerd"
  # setsid: the daemon must outlive this script and the shell that called it.
  setsid nohup dockerd >>/var/log/ipcgrade-dockerd.log 2>&1 < /dev/null &
  local pid=$!
  for _ in $(seq 1 60); do
    daemon_up && return 0
    kill -0 "$pid" 2>/dev/null || return 1   # it exited: no point waiting
    sleep 1
  done
  return 1
}

if ! daemon_up; then
  start_dockerd || { sleep 2; start_dockerd; } || true
fi

if ! daemon_up; then
  log "dockerd did not come up within 60 s; see /var/log/ipcgrade-dockerd.log"
  exit 1
fi
log "Docker daemon is ready"
