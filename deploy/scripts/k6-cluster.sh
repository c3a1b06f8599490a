#!/usr/bin/env bash
# Runs one k6 suite inside the cluster as a Job with the grafana/k6 image (deploy/k8s/load), against the gateway's
# Service in the tracemart namespace, then prints its output and exits with k6's result. Used by the Tiltfile's k6
# buttons in cluster mode.
# Usage: deploy/scripts/k6-cluster.sh <smoke|load|stress|spike|soak|degradation>
# Needs kubectl and kustomize (`npm run deploy:tools` puts kustomize in .tools/bin). Nothing is installed here:
# the cluster pulls grafana/k6.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
NS=tracemart
suite=${1:-}
if [ -z "$suite" ] || [ ! -f "$ROOT/load-tests/$suite.js" ]; then
  echo "usage: deploy/scripts/k6-cluster.sh <suite>; suites: $(cd "$ROOT/load-tests" && ls -1 ./*.js | sed 's|^\./||; s|\.js$||' | tr '\n' ' ')" >&2
  exit 2
fi
KUSTOMIZE=$(command -v kustomize || echo "$ROOT/.tools/bin/kustomize")

# The admin token, for the degradation suite's fault injection: copied from the Secret the dev-secrets component generated
# (its name carries a content hash).
auth=$(kubectl -n "$NS" get secrets -o name | grep -m1 '^secret/tracemart-auth' || true)
if [ -n "$auth" ]; then
  kubectl -n "$NS" get "$auth" -o jsonpath='{.data.admin-token}' | base64 -d |
    kubectl -n "$NS" create secret generic k6-admin-token --from-file=admin-token=/dev/stdin --dry-run=client -o yaml |
    kubectl apply -f - >/dev/null
fi

kubectl -n "$NS" delete job k6 --ignore-not-found --wait=true >/dev/null
kubectl -n "$NS" create configmap k6-run --from-literal=suite="$suite" --dry-run=client -o yaml | kubectl apply -f - >/dev/null
"$KUSTOMIZE" build --load-restrictor LoadRestrictionsNone "$ROOT/deploy/k8s/load" | kubectl apply -f -
echo "k6 $suite: waiting for the Job's pod (kubectl -n $NS logs -f job/k6 follows it too)" >&2
kubectl -n "$NS" wait --for=condition=Ready pod -l app.kubernetes.io/name=k6 --timeout=180s >/dev/null || true
kubectl -n "$NS" logs -f job/k6 || true
# k6 exits 99 when a threshold failed: the Job then fails (backoffLimit 0), and so does this script.
for _ in $(seq 1 30); do
  if kubectl -n "$NS" wait --for=condition=complete job/k6 --timeout=1s >/dev/null 2>&1; then exit 0; fi
  if kubectl -n "$NS" wait --for=condition=failed job/k6 --timeout=1s >/dev/null 2>&1; then break; fi
done
echo "k6 $suite failed (thresholds crossed or a script error): see the output above" >&2
exit 1
