#!/usr/bin/env bash
# Renders an overlay the one way everything here does (Tilt, tests, kubectl apply):
#   deploy/scripts/render.sh dev|canary | kubectl apply -f -
# The manifests read observability/ from outside their kustomization root, hence LoadRestrictionsNone.
set -euo pipefail
cd "$(dirname "$0")/../.."
overlay=${1:?usage: render.sh dev|canary}
# The overlays' Secrets come from git-ignored env files: made (random) when missing, kept otherwise.
bash deploy/scripts/make-secrets.sh
kustomize=.tools/bin/kustomize
[ -x "$kustomize" ] || kustomize=kustomize
exec "$kustomize" build --load-restrictor=LoadRestrictionsNone "deploy/k8s/overlays/$overlay"
