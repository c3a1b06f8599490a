#!/usr/bin/env bash
# Makes the development Secrets' values for the kind cluster, random and local to this checkout: one env file per Secret
# in deploy/k8s/components/dev-secrets/ (git-ignored), read by that component's secretGenerator, which the dev and canary
# overlays include. The base names these Secrets and their keys only; it holds no value.
# Idempotent: an existing value is kept (a running cluster keeps working), a missing file or key is added, so a key
# introduced later (internal-auth-secret, ...) appears on the next run. The Tiltfile, render.sh, validate.sh and the
# deploy tests run it before every `kustomize build`. To rotate everything: delete the .env files and run it again (then
# delete the MongoDB and NATS pods' volumes too: their users were created with the old passwords, deploy/README.md).
set -euo pipefail
cd "$(dirname "$0")/../.."
# TRACEMART_SECRETS_DIR: another folder (the tests make a set in a temporary one).
DIR=${TRACEMART_SECRETS_DIR:-deploy/k8s/components/dev-secrets}
mkdir -p "$DIR"
umask 077

random_bytes() { # random_bytes N hex|base64: N random bytes, one line
  if command -v openssl >/dev/null 2>&1; then
    if [ "$2" = hex ]; then openssl rand -hex "$1"; else openssl rand -base64 "$1" | tr -d '\n'; echo; fi
  else
    node -e "process.stdout.write(require('node:crypto').randomBytes($1).toString('$2') + '\n')"
  fi
}

added=()
# ensure FILE KEY VALUE: appends KEY=VALUE to FILE unless FILE already has KEY.
ensure() {
  local file="$DIR/$1.env"
  touch "$file"
  if ! grep -q "^$2=" "$file"; then
    printf '%s=%s\n' "$2" "$3" >>"$file"
    added+=("$1/$2")
  fi
}

ensure tracemart-auth jwt-secret "$(random_bytes 32 hex)"
ensure tracemart-auth admin-token "$(random_bytes 24 hex)"
ensure tracemart-auth internal-auth-secret "$(random_bytes 32 hex)"
ensure payment-token payment-token-key "$(random_bytes 32 hex)"
ensure grafana-admin password "$(random_bytes 16 hex)"
ensure mongodb-users root-username root
ensure mongodb-users root-password "$(random_bytes 24 hex)"
for service in user catalog order inventory payment notification; do
  ensure mongodb-users "$service-password" "$(random_bytes 24 hex)"
done
# The replica set members' shared key: 6 to 1024 base64 characters (here 128).
ensure mongodb-keyfile keyfile "$(random_bytes 96 base64)"
# NATS users (deploy/k8s/base/data/nats-auth.conf). A letter first: nats-server parses an environment variable's value as a
# configuration value, and one starting with a digit would be read as a number.
for user in user catalog order inventory payment notification ops; do
  ensure nats-users "$user-password" "n$(random_bytes 24 hex)"
done

if [ ${#added[@]} -gt 0 ]; then
  printf '[make-secrets] generated in %s: %s\n' "$DIR" "${added[*]}" >&2
fi
