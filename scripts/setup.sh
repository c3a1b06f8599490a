#!/usr/bin/env bash
# Installs what tracemart needs on this machine, idempotently; tool binaries go to the git-ignored .tools/.
#
#   scripts/setup.sh          what RUNNING needs (`npm start`): Prometheus and PostgreSQL (Debian packages),
#                             nats-server v2.12.3 and FerretDB v1.24.2 (built from the Go module proxy), npm
#                             dependencies, the storefront's build (storefront/dist, served by the gateway at /).
#   scripts/setup.sh --all    also what TESTING needs (`npm test`): the local telemetry backends (Jaeger,
#                             VictoriaLogs, an OpenTelemetry Collector: scripts/build-telemetry.sh), the dashboard
#                             schema checker, the deploy validators, Debian's chromium (the storefront's browser
#                             test), and under CI (or TRACEMART_IMAGES=1) a Docker engine for the image test.
#
# Every step is skipped when its result is already there. Nothing here fetches or builds k6, Grafana, Tempo or
# Loki (AGPL): tracemart ships k6 scripts and configs for them, and users install those programs themselves.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
TOOLS="$ROOT/.tools"
BIN="$TOOLS/bin"
mkdir -p "$BIN"
FERRETDB_VERSION=v1.24.2
# Debian's nats-server (2.9) lacks what the stack uses: subject transforms, partition(), multiple filter subjects.
NATS_SERVER_VERSION=v2.12.3
ALL=false
for arg in "$@"; do
  case "$arg" in
    --all) ALL=true ;;
    *) echo "usage: scripts/setup.sh [--all]" >&2; exit 2 ;;
  esac
done
STEPS=5
$ALL && STEPS=10
step=0
say() { printf '[setup] %s\n' "$*"; }
next() {
  step=$((step + 1))
  printf '[setup %d/%d] %s\n' "$step" "$STEPS" "$*"
}

# shellcheck source=lib/apt.sh
source scripts/lib/apt.sh

next "Debian packages: prometheus, postgresql"
packages=()
command -v prometheus >/dev/null 2>&1 || [ -x /usr/bin/prometheus ] || packages+=(prometheus)
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || packages+=(postgresql)
if [ ${#packages[@]} -gt 0 ]; then apt_install "${packages[@]}"; else say "already installed"; fi

next "nats-server $NATS_SERVER_VERSION"
if [ ! -x "$BIN/nats-server" ] || ! "$BIN/nats-server" --version 2>/dev/null | grep -qx "nats-server: $NATS_SERVER_VERSION"; then
  say "building nats-server into .tools/bin (go, one-off, about 25 s)"
  # The same route as FerretDB below: download the module, copy it out of the read-only module cache, build it.
  dir=$(go mod download -json "github.com/nats-io/nats-server/v2@$NATS_SERVER_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  rm -rf "$TOOLS/src/nats-server" && mkdir -p "$TOOLS/src" && cp -r "$dir" "$TOOLS/src/nats-server" && chmod -R u+w "$TOOLS/src/nats-server"
  (cd "$TOOLS/src/nats-server" && go build -trimpath -o "$BIN/nats-server" .)
  rm -rf "$TOOLS/src/nats-server"
else
  say "already built"
fi

next "FerretDB $FERRETDB_VERSION"
if [ ! -x "$BIN/ferretdb" ] || ! "$BIN/ferretdb" --version 2>/dev/null | grep -q "${FERRETDB_VERSION#v}"; then
  say "building FerretDB into .tools/bin (go, one-off, about a minute)"
  # `go install ...@version` fails on the module proxy's deprecation lookup here, and the module zip lacks
  # build/version/version.txt, so download the module, copy it, write the version file and build it.
  dir=$(go mod download -json "github.com/FerretDB/FerretDB@$FERRETDB_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  rm -rf "$TOOLS/src/ferretdb" && mkdir -p "$TOOLS/src" && cp -r "$dir" "$TOOLS/src/ferretdb" && chmod -R u+w "$TOOLS/src/ferretdb"
  echo "$FERRETDB_VERSION" > "$TOOLS/src/ferretdb/build/version/version.txt"
  (cd "$TOOLS/src/ferretdb" && go build -trimpath -o "$BIN/ferretdb" ./cmd/ferretdb)
  rm -rf "$TOOLS/src/ferretdb"
else
  say "already built"
fi

next "npm dependencies"
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
else
  say "up to date"
fi

next "storefront build (storefront/dist)"
# Built when missing or older than its sources; `npm run build` rebuilds it by hand.
if [ ! -f storefront/dist/index.html ] || [ -n "$(find storefront/src storefront/index.html storefront/vite.config.ts storefront/package.json -newer storefront/dist/index.html -type f 2>/dev/null | head -1)" ]; then
  npm run build
else
  say "up to date"
fi

if ! $ALL; then
  say "ready to run (the test tools come with \`npm run setup -- --all\`, which \`npm test\` runs)"
  exit 0
fi

next "telemetry backends: Jaeger, VictoriaLogs, OpenTelemetry Collector (first build: 15-25 min)"
bash scripts/build-telemetry.sh

next "dashboard schema checker"
# Grafana dashboard schema check (Go, the Grafana Foundation SDK's strict decoder and validators: Apache-2.0).
SCHEMA_CHECK_SRC=observability/grafana/schema-check
if [ ! -x "$BIN/grafana-schema-check" ] || [ -n "$(find "$SCHEMA_CHECK_SRC" -newer "$BIN/grafana-schema-check" -type f)" ]; then
  say "building grafana-schema-check into .tools/bin (go, about 30 s)"
  (cd "$SCHEMA_CHECK_SRC" && go build -trimpath -o "$BIN/grafana-schema-check" .)
else
  say "already built"
fi

next "deploy validators: kustomize, kubeconform, starlark, offline schemas"
bash deploy/scripts/install-tools.sh || say "deploy tools failed to install: the deploy validation tests will fail"

next "Chromium for the storefront's browser test"
# Debian's chromium, driven by playwright-core (tests/e2e/storefront.e2e.test.ts): no browser download from npm.
if [ -x /usr/bin/chromium ]; then say "already installed"; else apt_install chromium || say "chromium failed to install: the storefront browser test will fail"; fi

next "Docker engine (CI or TRACEMART_IMAGES=1 only)"
# The image test (deploy/tests/images.e2e.test.ts) may install Debian's docker.io and start dockerd, so only under
# CI or when asked. Without an engine that test is skipped.
if [ -n "${CI:-}" ] || [ "${TRACEMART_IMAGES:-}" = 1 ]; then
  bash deploy/scripts/docker-engine.sh || say "no Docker engine: the image build-and-run test will be skipped"
else
  say "skipped"
fi

say "tools ready in .tools/bin: $(ls "$BIN" | tr '\n' ' ')"
