#!/usr/bin/env bash
# Makes a Docker engine answer on this machine, idempotently, for building and running tracemart's images
# without a cluster: if `docker info` already answers, nothing happens; otherwise Debian's docker.io is
# installed when dockerd is missing (root and apt-get needed) and dockerd is started in the background
# (log: .data/dockerd.log). Exit 0 when the engine answers, 1 with the reason on stderr when it cannot run.
# scripts/setup.sh calls it when CI is set or TRACEMART_IMAGES=1; it never installs anything otherwise.
set -euo pipefail
cd "$(dirname "$0")/../.."
say() { printf '[docker-engine] %s\n' "$*" >&2; }
# shellcheck source=../../scripts/lib/apt.sh
source scripts/lib/apt.sh

docker info >/dev/null 2>&1 && exit 0
if ! command -v dockerd >/dev/null 2>&1; then
  if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    say "no dockerd here, and Debian's docker.io cannot be installed (needs root and apt-get)"
    exit 1
  fi
  apt_install docker.io || {
    say "apt-get could not install docker.io"
    exit 1
  }
fi
command -v docker >/dev/null 2>&1 || { say "dockerd is here but no docker client"; exit 1; }
[ "$(id -u)" -eq 0 ] || { say "dockerd is not running, and starting it needs root"; exit 1; }
mkdir -p .data
say "starting dockerd (log: .data/dockerd.log; it keeps running: stop it with kill \$(cat .data/dockerd.pid))"
setsid nohup dockerd </dev/null >.data/dockerd.log 2>&1 &
echo $! >.data/dockerd.pid
for _ in $(seq 1 60); do
  docker info >/dev/null 2>&1 && exit 0
  kill -0 "$(cat .data/dockerd.pid)" 2>/dev/null || break
  sleep 0.5
done
say "dockerd did not answer (exited, or no answer within 30 s); its last lines:"
tail -5 .data/dockerd.log >&2 || true
exit 1
