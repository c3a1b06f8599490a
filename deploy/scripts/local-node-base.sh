#!/usr/bin/env bash
# Makes a Node.js base image without a container registry, for machines that cannot pull node:20-bookworm-slim:
# a Debian bookworm root filesystem from debootstrap (minbase, with ca-certificates), this machine's own
# `node` and npm copied into /usr/local as in the official image, and the official image's `node` user
# (uid/gid 1000). Imported as tracemart/node-base:<node version>-bookworm-local and printed on stdout. The Node
# version is this machine's (Node 20 here), not the Dockerfile's pinned 20.19.5.
# Idempotent: an existing image is reused; the root filesystem is cached in .tools/node-base.
# Where TLS to the npm registry is intercepted (NODE_EXTRA_CA_CERTS set here), that CA bundle is copied in
# and named by NODE_EXTRA_CA_CERTS in the image, so `npm ci` inside the build trusts what this machine trusts
# (images built on this base keep trusting it at run time: they are for this machine, not for publishing).
# The Dockerfile keeps the official image as its default; this one is passed as --build-arg NODE_IMAGE=...
set -euo pipefail
cd "$(dirname "$0")/../.."
say() { printf '[node-base] %s\n' "$*" >&2; }
# shellcheck source=../../scripts/lib/apt.sh
source scripts/lib/apt.sh

SUITE=bookworm
NODE_VERSION=$(node -p 'process.versions.node')
TAG="tracemart/node-base:${NODE_VERSION}-${SUITE}-local"
if docker image inspect "$TAG" >/dev/null 2>&1; then
  echo "$TAG"
  exit 0
fi
[ "$(id -u)" -eq 0 ] || { say "making the base image needs root (debootstrap, chroot)"; exit 1; }
command -v debootstrap >/dev/null 2>&1 || apt_install debootstrap || {
  say "apt-get could not install debootstrap"
  exit 1
}

WORK=.tools/node-base
ROOTFS="$WORK/rootfs-$SUITE"
if [ ! -f "$WORK/$SUITE.complete" ]; then
  rm -rf "$ROOTFS"
  mkdir -p "$WORK"
  say "debootstrap $SUITE (minbase) into $ROOTFS (about a minute)"
  if ! debootstrap --variant=minbase --include=ca-certificates "$SUITE" "$ROOTFS" "${DEBIAN_MIRROR:-http://deb.debian.org/debian}" >"$WORK/debootstrap.log" 2>&1; then
    say "debootstrap failed; the end of $WORK/debootstrap.log:"
    tail -5 "$WORK/debootstrap.log" >&2
    exit 1
  fi
  rm -rf "$ROOTFS"/var/cache/apt/archives/*.deb "$ROOTFS"/var/lib/apt/lists/*
  touch "$WORK/$SUITE.complete"
fi

say "adding node $NODE_VERSION, npm and the node user"
NODE_BIN=$(readlink -f "$(command -v node)")
NPM_DIR=$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")
install -D -m 0755 "$NODE_BIN" "$ROOTFS/usr/local/bin/node"
rm -rf "$ROOTFS/usr/local/lib/node_modules/npm"
mkdir -p "$ROOTFS/usr/local/lib/node_modules"
cp -a "$NPM_DIR" "$ROOTFS/usr/local/lib/node_modules/npm"
ln -sfn ../lib/node_modules/npm/bin/npm-cli.js "$ROOTFS/usr/local/bin/npm"
ln -sfn ../lib/node_modules/npm/bin/npx-cli.js "$ROOTFS/usr/local/bin/npx"
chroot "$ROOTFS" getent passwd node >/dev/null || {
  chroot "$ROOTFS" /usr/sbin/groupadd --gid 1000 node
  chroot "$ROOTFS" /usr/sbin/useradd --uid 1000 --gid node --create-home --shell /bin/sh node
}
changes=(--change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' --change "ENV NODE_VERSION=$NODE_VERSION" --change 'CMD ["node"]')
if [ -n "${NODE_EXTRA_CA_CERTS:-}" ] && [ -f "$NODE_EXTRA_CA_CERTS" ]; then
  install -D -m 0644 "$NODE_EXTRA_CA_CERTS" "$ROOTFS/usr/local/share/tracemart/build-host-ca.crt"
  changes+=(--change 'ENV NODE_EXTRA_CA_CERTS=/usr/local/share/tracemart/build-host-ca.crt')
fi
# Inside the root filesystem, with its own libraries: the image's node and npm must run there.
chroot "$ROOTFS" /usr/local/bin/node --version >/dev/null
chroot "$ROOTFS" /usr/local/bin/npm --version >/dev/null
tar -C "$ROOTFS" -c . | docker import "${changes[@]}" - "$TAG" >/dev/null
say "made $TAG ($(docker image inspect --format '{{.Size}}' "$TAG" | awk '{printf "%d MB", $1/1e6}'))"
echo "$TAG"
