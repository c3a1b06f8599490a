#!/usr/bin/env bash
# Rolls one tracemart process to a new image version on the kind cluster, without failing a request:
#   deploy/scripts/roll.sh <service> [tag] [-- extra docker build args]
# Builds tracemart/<service>:<tag> from the root Dockerfile, loads it into kind, points the Deployment at it and waits.
# maxUnavailable 0 + readiness on /readyz + preStop sleep + graceful SIGTERM keep every request served; run
# `load-tests/run.sh smoke` (k6) meanwhile to see zero failures. In the canary overlay the same change starts an Argo
# Rollouts canary for order and payment (their Rollouts use the Deployment as template), and this waits for that.
set -euo pipefail
cd "$(dirname "$0")/../.."
service=${1:?usage: roll.sh <gateway|user|catalog|order|inventory|payment|notification> [tag]}
tag=${2:-$(git rev-parse --short HEAD 2>/dev/null || echo dev)-$(date +%s)}
shift $(( $# > 1 ? 2 : 1 )); [ "${1:-}" = "--" ] && shift
cluster=${KIND_CLUSTER:-tracemart}
namespace=${NAMESPACE:-tracemart}
case "$service" in
  gateway) dir=gateway ;;
  user|catalog|order|inventory|payment|notification) dir="services/$service" ;;
  *) echo "unknown service: $service" >&2; exit 2 ;;
esac
image="tracemart/$service:$tag"

docker build --build-arg SERVICE="$dir" --build-arg VERSION="$tag" \
  --build-arg REVISION="$(git rev-parse HEAD 2>/dev/null || echo unknown)" \
  --build-arg CREATED="$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$@" -t "$image" .
kind load docker-image "$image" --name "$cluster"
kubectl -n "$namespace" set image "deployment/$service" "$service=$image"

if kubectl -n "$namespace" get "rollouts.argoproj.io/$service" >/dev/null 2>&1; then
  echo "canary started: kubectl argo rollouts -n $namespace get rollout $service --watch"
  kubectl argo rollouts -n "$namespace" status "$service" --timeout 15m
else
  kubectl -n "$namespace" rollout status "deployment/$service" --timeout 5m
fi
