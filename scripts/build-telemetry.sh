#!/usr/bin/env bash
# Builds the local telemetry backends into the git-ignored .tools/bin, all under permissive licences:
#   - Jaeger v1.76.0 (Apache-2.0), traces, query API only      tools/jaeger (go.mod pins it as a `tool`)
#   - VictoriaLogs v1.52.1 (Apache-2.0), logs, with a web UI    tools/victorialogs
#   - an OpenTelemetry Collector (Apache-2.0) with exactly the components observability/otel-collector/config.yaml
#     uses, through ocb (observability/otel-collector/builder.yaml)
# Used by the telemetry test and `npm run telemetry`; `npm start` does not need them. Called by
# `scripts/setup.sh --all` (and so by `npm test`). Idempotent: a binary is rebuilt only when its pin changed.
# First build on 2 cores: Jaeger about 10-20 min, the Collector about 5, VictoriaLogs about 1-2.
# Tempo, Loki, Grafana and k6 are AGPL: nothing here (or anywhere in this repository) fetches or builds them.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BIN="$ROOT/.tools/bin"
SRC="$ROOT/.tools/src"
mkdir -p "$BIN" "$SRC"
export GOFLAGS="-buildvcs=false"
OCB_VERSION=v0.162.0
say() { printf '[build-telemetry] %s\n' "$*"; }
# fresh BINARY INPUT...: the binary exists and is newer than every input file (its pins).
fresh() {
  local bin=$1
  shift
  [ -x "$bin" ] || return 1
  for input in "$@"; do [ "$input" -nt "$bin" ] && return 1; done
  return 0
}

# go_tool NAME PACKAGE OUT: builds PACKAGE, pinned with `tool` in tools/NAME/go.mod, into .tools/bin/OUT.
go_tool() {
  local name=$1 pkg=$2 out=$3
  if fresh "$BIN/$out" "tools/$name/go.mod" "tools/$name/go.sum"; then return 0; fi
  say "building $out into .tools/bin (pinned in tools/$name/go.mod)"
  (cd "tools/$name" && go build -trimpath -ldflags="-s -w" -o "$BIN/$out.tmp" "$pkg")
  mv "$BIN/$out.tmp" "$BIN/$out"
}

# CGO off for Jaeger (pure Go). VictoriaLogs uses cgo for zstd when a C compiler is there, and Go's pure zstd
# fallback when it is not (CGO_ENABLED then defaults to 0): both work.
CGO_ENABLED=0 go_tool jaeger github.com/jaegertracing/jaeger/cmd/jaeger jaeger
go_tool victorialogs github.com/VictoriaMetrics/VictoriaLogs/app/victoria-logs victoria-logs

if ! fresh "$BIN/otelcol-tracemart" observability/otel-collector/builder.yaml; then
  say "building the OpenTelemetry Collector (ocb $OCB_VERSION) into .tools/bin"
  if [ ! -x "$BIN/builder" ] || ! "$BIN/builder" version 2>/dev/null | grep -q "${OCB_VERSION#v}"; then
    GOBIN="$BIN" go install "go.opentelemetry.io/collector/cmd/builder@$OCB_VERSION"
  fi
  rm -rf "$SRC/otelcol"
  GOFLAGS="-mod=mod -buildvcs=false" "$BIN/builder" --config=observability/otel-collector/builder.yaml
  mv "$SRC/otelcol/otelcol-tracemart" "$BIN/otelcol-tracemart"
  rm -rf "$SRC/otelcol"
fi
say "ready: $(cd "$BIN" && ls jaeger victoria-logs otelcol-tracemart 2>/dev/null | tr '\n' ' ')"
