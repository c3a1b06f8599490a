#!/usr/bin/env bash
# Runs one k6 suite with the HTML dashboard export and the summary files in REPORT_DIR.
# Usage: load-tests/run.sh <smoke|load|stress|spike|soak|degradation> [extra k6 run args]
# Exit code: k6's (0 pass, 99 thresholds crossed, 107 script error such as an unreachable BASE_URL).
# k6 comes from $K6, else `k6` on PATH.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
suites=$(cd "$ROOT/load-tests" && ls -1 ./*.js | sed 's|^\./||; s|\.js$||' | tr '\n' ' ')
if [ $# -lt 1 ] || [ ! -f "$ROOT/load-tests/$1.js" ]; then
  echo "usage: load-tests/run.sh <suite> [extra k6 run args]; suites: $suites" >&2
  exit 2
fi
suite=$1
shift
# k6 is not installed by tracemart (it is AGPL-licensed): install it yourself, see load-tests/README.md.
if [ -z "${K6:-}" ]; then
  if command -v k6 >/dev/null 2>&1; then K6=$(command -v k6); fi
fi
if [ -z "${K6:-}" ] || [ ! -x "$K6" ]; then
  echo "k6 not found${K6:+ at $K6}. Install k6 1.x (Grafana's apt/rpm packages, \`brew install k6\`, or the grafana/k6" >&2
  echo "container image: see load-tests/README.md), or set K6=/path/to/k6. Without k6, \`npm run load:ci -- smoke|degradation\`" >&2
  echo "runs the smoke and degradation scenarios through the Node harness." >&2
  exit 2
fi
cd "$ROOT"
# The running local stack's admin token (random per `npm start`), unless one is given.
if [ -z "${ADMIN_TOKEN:-}" ] && [ -f "$ROOT/.data/admin-token" ]; then ADMIN_TOKEN=$(cat "$ROOT/.data/admin-token"); export ADMIN_TOKEN; fi
export REPORT_DIR=${REPORT_DIR:-reports}
export REPORT_STAMP=${REPORT_STAMP:-$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$REPORT_DIR"
export K6_WEB_DASHBOARD=true
export K6_WEB_DASHBOARD_EXPORT="$REPORT_DIR/$suite-$REPORT_STAMP.html"
# -1: no dashboard HTTP port (k6 would otherwise wait for open browser tabs, and two runs would
# fight over 5665). Set K6_WEB_DASHBOARD_PORT=5665 to watch a run live.
export K6_WEB_DASHBOARD_PORT=${K6_WEB_DASHBOARD_PORT:--1}
echo "k6 $suite: reports in $REPORT_DIR/$suite-$REPORT_STAMP.{html,json,txt}" >&2
exec "$K6" run "$@" "load-tests/$suite.js"
