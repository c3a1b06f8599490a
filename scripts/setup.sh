#!/usr/bin/env bash
# Installs what tracemart needs on this machine, idempotently, into the git-ignored .tools/ folder:
#   - nats-server (Debian package) for JetStream
#   - prometheus (Debian package) for local metrics
#   - FerretDB v1.24.2 (built from the Go module proxy) as the MongoDB-wire database, SQLite backend
#   - k6 (go install) for load tests
#   - grafana-schema-check (go build of observability/grafana/schema-check) for the dashboard schema test
#   - Tempo, Loki and an OpenTelemetry Collector (scripts/build-lgtm.sh, from the Go module proxy; 10-15 min once)
#   - npm dependencies
#   - under CI (or TRACEMART_IMAGES=1): a running Docker engine, for building and running the images
# Every step is skipped when its result is already there.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
TOOLS="$ROOT/.tools"
BIN="$TOOLS/bin"
mkdir -p "$BIN"
FERRETDB_VERSION=v1.24.2
K6_VERSION=v1.8.1
say() { printf '[setup] %s\n' "$*"; }

# shellcheck source=lib/apt.sh
source scripts/lib/apt.sh

if ! command -v nats-server >/dev/null 2>&1; then apt_install nats-server; fi
if ! command -v prometheus >/dev/null 2>&1 && [ ! -x /usr/bin/prometheus ]; then apt_install prometheus; fi

if [ ! -x "$BIN/ferretdb" ] || ! "$BIN/ferretdb" --version 2>/dev/null | grep -q "${FERRETDB_VERSION#v}"; then
  say "building FerretDB $FERRETDB_VERSION into .tools/bin (go, one-off, about a minute)"
  # `go install ...@version` fails on the module proxy's deprecation lookup here, and the module zip lacks
  # build/version/version.txt, so download the module, copy it, write the version file and build it.
  dir=$(go mod download -json "github.com/FerretDB/FerretDB@$FERRETDB_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  rm -rf "$TOOLS/src/ferretdb" && mkdir -p "$TOOLS/src" && cp -r "$dir" "$TOOLS/src/ferretdb" && chmod -R u+w "$TOOLS/src/ferretdb"
  echo "$FERRETDB_VERSION" > "$TOOLS/src/ferretdb/build/version/version.txt"
  (cd "$TOOLS/src/ferretdb" && go build -trimpath -o "$BIN/ferretdb" ./cmd/ferretdb)
  rm -rf "$TOOLS/src/ferretdb"
fi

if [ ! -x "$BIN/k6" ]; then
  say "installing k6 $K6_VERSION into .tools/bin (go install, one-off, a few minutes)"
  GOBIN="$BIN" GOFLAGS=-mod=mod go install "go.k6.io/k6@$K6_VERSION" || say "k6 install failed: load tests will be unavailable"
fi

# Grafana dashboard schema check (Go, Grafana Foundation SDK's strict decoder and validators).
SCHEMA_CHECK_SRC=observability/grafana/schema-check
if [ ! -x "$BIN/grafana-schema-check" ] || [ -n "$(find "$SCHEMA_CHECK_SRC" -newer "$BIN/grafana-schema-check" -type f)" ]; then
  say "building grafana-schema-check into .tools/bin (go, about 30 s)"
  (cd "$SCHEMA_CHECK_SRC" && go build -trimpath -o "$BIN/grafana-schema-check" .)
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing npm dependencies"
  npm ci --no-audit --no-fund
fi
# Tempo, Loki and the OpenTelemetry Collector for the telemetry test through real backends (and `npm run lgtm`).
bash scripts/build-lgtm.sh

# kustomize, kubeconform, starlark and offline Kubernetes / Argo Rollouts schemas for the deploy tests.
bash deploy/scripts/install-tools.sh || say "deploy tools failed to install: the deploy validation tests will fail"

# A Docker engine for the image test (deploy/tests/images.e2e.test.ts): only under CI or when asked with
# TRACEMART_IMAGES=1, since it may install Debian's docker.io and start dockerd. Without one the test is skipped.
if [ -n "${CI:-}" ] || [ "${TRACEMART_IMAGES:-}" = 1 ]; then
  bash deploy/scripts/docker-engine.sh || say "no Docker engine: the image build-and-run test will be skipped"
fi

say "tools ready in .tools/bin: $(ls "$BIN" | tr '\n' ' ')"
