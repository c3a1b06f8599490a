#!/usr/bin/env bash
# Builds the seven tracemart images from the root Dockerfile as tracemart/<name>:$TAG (TAG defaults to dev):
#   bash deploy/scripts/build-images.sh               # on the official node base image (pulled from Docker Hub)
#   bash deploy/scripts/build-images.sh --local-base  # on a base image made here, no container registry needed
#                                                     # (local-node-base.sh; npm ci still needs the npm registry)
# BuildKit when the docker client has its buildx plugin, the classic builder otherwise: the Dockerfile suits both.
# To run them in kind: kind load docker-image tracemart/<name>:$TAG (Tilt builds its own; see deploy/README.md).
set -euo pipefail
cd "$(dirname "$0")/../.."
TAG=${TAG:-dev}
base=()
if [ "${1:-}" = --local-base ]; then
  base=(--build-arg "NODE_IMAGE=$(bash deploy/scripts/local-node-base.sh)")
elif [ -n "${1:-}" ]; then
  echo "usage: build-images.sh [--local-base]" >&2
  exit 2
fi
if docker buildx version >/dev/null 2>&1; then export DOCKER_BUILDKIT=1; else export DOCKER_BUILDKIT=0; fi
REVISION=$(git rev-parse HEAD 2>/dev/null || echo unknown)
CREATED=$(date -u +%Y-%m-%dT%H:%M:%SZ)
log=$(mktemp)
trap 'rm -f "$log"' EXIT
for name in user catalog order inventory payment notification gateway; do
  dir="services/$name"
  [ "$name" = gateway ] && dir=gateway
  started=$(date +%s)
  # The classic builder's deprecation notice is dropped; anything else the build says on failure is shown.
  if ! docker build --quiet ${base[@]+"${base[@]}"} \
    --build-arg "SERVICE=$dir" --build-arg "VERSION=$TAG" --build-arg "REVISION=$REVISION" --build-arg "CREATED=$CREATED" \
    --tag "tracemart/$name:$TAG" . >/dev/null 2>"$log"; then
    grep -v -e 'legacy builder is deprecated' -e 'BuildKit is currently disabled' -e 'environment-variable\.' "$log" >&2 || true
    echo "[images] building tracemart/$name:$TAG failed" >&2
    exit 1
  fi
  printf '[images] tracemart/%s:%s built in %ss\n' "$name" "$TAG" "$(($(date +%s) - started))" >&2
done
