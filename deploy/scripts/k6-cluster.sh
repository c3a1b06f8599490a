#!/usr/bin/env bash
# Runs one k6 suite inside the cluster as a Job with the grafana/k6 image (deploy/k8s/load), against the gateway's
# Service, then prints its output and exits with k6's code. Used by the Tiltfile's k6 buttons in cluster mode.
# Usage: deploy/scripts/k6-cluster.sh <smoke|load|stress|spike|soak|degradation> [namespace]
# Needs kubectl and kustomize (`npm run deploy:tools` puts kustomize in .tools/bin). Nothing is installed here:
# the cluster pulls grafana/k6.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
suite=${1:-}
ns=${2:-tracemart}
if [ -z "$suite" ] || [ ! -f "$ROOT/load-tests/$suite.js" ]; then
  echo "usage: deploy/scripts/k6-cluster.sh <suite> [namespace]; suites: $(cd "$ROOT/load-tests" && ls -1 ./*.js | sed 's|^\./||; s|\.js$||' | tr '\n' ' ')" >&2
  exit 2
fi
KUSTOMIZE=$(command -v kustomize || echo "$ROOT/.tools/bin/kustomize")

# The admin token, for the degradation suite's fault injection: copied from the Secret the base generated.
auth=$(kubectl -n "$ns" get secrets -o name | grep -m1 '^secret/tracemart-auth' || true)
if [ -n "$auth" ]; then
  kubectl -n "$ns" get "$auth" -o jsonpath='{.data.admin-token}' | base64 -d |
    kubectl -n "$ns" create secret generic k6-admin-token --from-file=admin-token=/dev/stdin --dry-run=client -o yaml |
    kubectl apply -f - >/dev/null
fi

kubectl -n "$ns" delete job k6 --ignore-not-found --wait=true >/dev/null
"$KUSTOMIZE" build --load-restrictor LoadRestrictionsNone "$ROOT/deploy/k8s/load" |
  kubectl set env --local -f - "SUITE=$suite" -o yaml |
  kubectl -n "$ns" apply -f -
echo "k6 $suite: waiting for the Job to start (kubectl -n $ns logs -f job/k6 to follow it)" >&2
kubectl -n "$ns" wait --for=condition=Ready pod -l app.kubernetes.io/name=k6 --timeout=180s >/dev/null || true
kubectl -n "$ns" logs -f job/k6 || true
# k6 exits 99 when a threshold failed: the Job then fails, and so does this script.
if kubectl -n "$ns" wait --for=condition=complete job/k6 --timeout=10s >/dev/null 2>&1; then exit 0; fi
echo "k6 $suite failed (thresholds crossed or a script error): see the output above" >&2
exit 1
