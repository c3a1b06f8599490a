#!/usr/bin/env bash
# Offline validation without vitest: render each overlay and check it with kubeconform against the generated schemas.
# (The vitest suite deploy/tests/*.unit.test.ts does this and the policy checks.)
set -euo pipefail
cd "$(dirname "$0")/../.."
bash deploy/scripts/install-tools.sh >/dev/null
bash deploy/scripts/make-secrets.sh
# The committed NATS users and permissions must be what the contracts and the services' modules give.
node --require tsx/cjs deploy/scripts/nats-permissions.ts --check
for overlay in dev canary; do
  echo "== $overlay"
  bash deploy/scripts/render.sh "$overlay" | .tools/bin/kubeconform -strict -summary \
    -schema-location '.tools/schemas/kubernetes/{{ .ResourceKind }}{{ .KindSuffix }}.json' \
    -schema-location '.tools/schemas/argo-rollouts/{{ .ResourceKind }}{{ .KindSuffix }}.json' -
done
