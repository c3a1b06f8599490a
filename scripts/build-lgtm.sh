#!/usr/bin/env bash
# Builds Grafana Tempo, Grafana Loki and an OpenTelemetry Collector (observability/otel-collector/builder.yaml:
# exactly the components config.yaml uses) from the Go module proxy into the git-ignored .tools/bin, so that
# the observability/ configs run locally without container images: `npm run lgtm`, and the telemetry test
# tests/telemetry/lgtm.e2e.test.ts. Idempotent; the first run compiles for about 11 minutes on 2 cores (measured:
# Tempo 4 min, Loki and the collector 7 min). Called by scripts/setup.sh. Grafana itself is not built: the proxy
# serves no recent Grafana.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BIN="$ROOT/.tools/bin"
SRC="$ROOT/.tools/src"
mkdir -p "$BIN" "$SRC"
export GOFLAGS="-mod=mod -buildvcs=false"
# The proxy serves Tempo only as pseudo-versions (its v2 tags have no /v2 module path): this one is Tempo's
# main branch just after v2.8.0-rc.0, the commit Grafana's own go.mod pins. The checksum database has no
# record of it, hence GONOSUMDB for this one module.
TEMPO_VERSION=v1.5.1-0.20250529124718-87c2dc380cec
LOKI_VERSION=v3.7.8
OCB_VERSION=v0.162.0
say() { printf '[build-lgtm] %s\n' "$*"; }
moddir() { go mod download -json "$1" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p'; }

if [ ! -x "$BIN/tempo" ]; then
  say "building Tempo ($TEMPO_VERSION)"
  dir=$(GONOSUMDB=github.com/grafana/tempo moddir "github.com/grafana/tempo@$TEMPO_VERSION")
  rm -rf "$SRC/tempo" && cp -r "$dir" "$SRC/tempo" && chmod -R u+w "$SRC/tempo"
  (cd "$SRC/tempo" && GONOSUMDB=github.com/grafana/tempo CGO_ENABLED=0 go build -o "$BIN/tempo" ./cmd/tempo)
  rm -rf "$SRC/tempo"
fi

if [ ! -x "$BIN/loki" ]; then
  say "building Loki ($LOKI_VERSION)"
  dir=$(moddir "github.com/grafana/loki/v3@$LOKI_VERSION")
  rm -rf "$SRC/loki" && cp -r "$dir" "$SRC/loki" && chmod -R u+w "$SRC/loki"
  # pkg/push is a nested module, so it is not in the module zip: use the version go.mod requires instead.
  (cd "$SRC/loki" && go mod edit -dropreplace=github.com/grafana/loki/pkg/push && CGO_ENABLED=0 go build -tags netgo -o "$BIN/loki" ./cmd/loki)
  rm -rf "$SRC/loki"
fi

if [ ! -x "$BIN/otelcol-tracemart" ]; then
  say "building the OpenTelemetry Collector (ocb $OCB_VERSION)"
  [ -x "$BIN/builder" ] || GOBIN="$BIN" go install "go.opentelemetry.io/collector/cmd/builder@$OCB_VERSION"
  rm -rf "$SRC/otelcol"
  "$BIN/builder" --config=observability/otel-collector/builder.yaml
  cp "$SRC/otelcol/otelcol-tracemart" "$BIN/otelcol-tracemart"
  rm -rf "$SRC/otelcol"
fi
say "ready: $(cd "$BIN" && ls tempo loki otelcol-tracemart 2>/dev/null | tr '\n' ' ')"
