#!/usr/bin/env bash
# Installs the offline deploy-validation tools into $(repo)/.tools, idempotently, using only the Go module proxy:
#   .tools/bin/kustomize, .tools/bin/kubeconform, .tools/bin/starlark  (built from pinned Go modules)
#   .tools/schemas/kubernetes/   Kubernetes JSON schemas generated from k8s.io/kubernetes api/openapi-spec/swagger.json
#   .tools/schemas/argo-rollouts/ Argo Rollouts CRD schemas generated from github.com/argoproj/argo-rollouts manifests/crds
# Every step is skipped when its pinned result is already there (a stamp file records the pinned versions).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
TOOLS="$ROOT/.tools"
BIN="$TOOLS/bin"
SCHEMAS="$TOOLS/schemas"

# Keep these in step with deploy/README.md ("Validation tools").
KUSTOMIZE_VERSION=v5.7.1
KUBECONFORM_VERSION=v0.7.0
STARLARK_VERSION=v0.0.0-20260908191801-89a6a09411d5
KUBERNETES_VERSION=v1.32.4
ARGO_ROLLOUTS_VERSION=v1.8.5

say() { printf '[deploy-tools] %s\n' "$*"; }
mkdir -p "$BIN" "$SCHEMAS"
export GOFLAGS=-mod=mod
# k8s.io/kubernetes is not in the checksum database this proxy serves; the module zip is still verified against go.sum of
# the temporary module by hash on later downloads.
export GONOSUMDB="k8s.io/kubernetes${GONOSUMDB:+,$GONOSUMDB}"

stamp_ok() { [ -f "$1.version" ] && [ "$(cat "$1.version")" = "$2" ]; }

# go_tool NAME PACKAGE VERSION: `go install pkg@version`, falling back to a throw-away module when the proxy refuses the
# deprecation lookup that `go install` makes (403 on this network).
go_tool() {
  local name=$1 pkg=$2 version=$3 mod
  if [ -x "$BIN/$name" ] && stamp_ok "$BIN/$name" "$pkg@$version"; then return 0; fi
  say "building $name from $pkg@$version"
  if ! GOBIN="$BIN" go install "$pkg@$version" 2>"$TOOLS/go-install-$name.log"; then
    say "go install failed ($(tail -1 "$TOOLS/go-install-$name.log")); building through a temporary module"
    mod=$(mktemp -d)
    (cd "$mod" && go mod init tmp >/dev/null 2>&1 && go get "$pkg@$version" && go build -trimpath -o "$BIN/$name" "$pkg")
    rm -rf "$mod"
  fi
  rm -f "$TOOLS/go-install-$name.log"
  echo "$pkg@$version" > "$BIN/$name.version"
}

# module_dir PATH VERSION: the read-only directory of a downloaded Go module (source files only, nothing is built).
module_dir() {
  go mod download -json "$1@$2" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p'
}

go_tool kustomize sigs.k8s.io/kustomize/kustomize/v5 "$KUSTOMIZE_VERSION"
go_tool kubeconform github.com/yannh/kubeconform/cmd/kubeconform "$KUBECONFORM_VERSION"
go_tool starlark go.starlark.net/cmd/starlark "$STARLARK_VERSION"

if ! stamp_ok "$SCHEMAS/kubernetes" "$KUBERNETES_VERSION"; then
  say "generating Kubernetes $KUBERNETES_VERSION JSON schemas from the k8s.io/kubernetes module's swagger.json"
  dir=$(module_dir k8s.io/kubernetes "$KUBERNETES_VERSION")
  rm -rf "$SCHEMAS/kubernetes"
  node "$ROOT/deploy/scripts/openapi2jsonschema.mjs" swagger "$dir/api/openapi-spec/swagger.json" "$SCHEMAS/kubernetes"
  echo "$KUBERNETES_VERSION" > "$SCHEMAS/kubernetes.version"
fi

if ! stamp_ok "$SCHEMAS/argo-rollouts" "$ARGO_ROLLOUTS_VERSION"; then
  say "generating Argo Rollouts $ARGO_ROLLOUTS_VERSION CRD schemas from the argo-rollouts module's manifests/crds"
  dir=$(module_dir github.com/argoproj/argo-rollouts "$ARGO_ROLLOUTS_VERSION")
  rm -rf "$SCHEMAS/argo-rollouts"
  node "$ROOT/deploy/scripts/openapi2jsonschema.mjs" crd "$SCHEMAS/argo-rollouts" "$dir"/manifests/crds/*.yaml
  echo "$ARGO_ROLLOUTS_VERSION" > "$SCHEMAS/argo-rollouts.version"
fi

say "ready: $("$BIN/kustomize" version), kubeconform $("$BIN/kubeconform" -v), schemas k8s $KUBERNETES_VERSION, argo-rollouts $ARGO_ROLLOUTS_VERSION"
