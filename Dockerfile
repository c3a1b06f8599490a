# One image recipe for every tracemart process; SERVICE picks the workspace folder:
#   docker build --build-arg SERVICE=services/order -t tracemart/order:<tag> .
#   docker build --build-arg SERVICE=gateway        -t tracemart/gateway:<tag> .
# TypeScript runs through tsx at runtime (no compile step), so tsx must be a production dependency.
# Plain Dockerfile syntax (no `# syntax=` line, no RUN --mount): it builds with BuildKit and with the classic builder
# alike, and needs no frontend image from a registry. Where no registry is reachable, NODE_IMAGE can name a locally
# made base image instead (`deploy/scripts/build-images.sh --local-base`).
ARG NODE_IMAGE=docker.io/library/node:20.19.5-bookworm-slim

# Only the package manifests, so the dependency layer is rebuilt when a manifest or the lockfile changes, not on every
# source edit. Every workspace's package.json is needed for `npm ci` to match the lockfile.
FROM ${NODE_IMAGE} AS manifests
WORKDIR /src
COPY . .
RUN find . -type f ! -name package.json ! -name package-lock.json -delete \
 && find . -type d -empty -delete

FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY --from=manifests /src/ ./
RUN npm ci --omit=dev --no-audit --no-fund \
 && npm cache clean --force

# The storefront (issue 15): a Vite build that the gateway serves at / from /app/storefront/dist. Built for the gateway
# image only; the other images get an empty folder (the conditions use SERVICE, so their layers stay cached and cheap).
# Its dependencies are installed for that one workspace, in a layer of its own before the sources are copied; only the
# built files leave this stage.
FROM ${NODE_IMAGE} AS storefront
ARG SERVICE
WORKDIR /src
COPY --from=manifests /src/ ./
RUN if [ "$SERVICE" = gateway ]; then \
      npm ci --workspace=@tracemart/storefront --include-workspace-root=false --no-audit --no-fund && npm cache clean --force; \
    fi
COPY tsconfig.base.json ./
COPY storefront/ ./storefront/
RUN rm -rf storefront/dist && mkdir -p storefront/dist \
 && if [ "$SERVICE" = gateway ]; then npm run build --workspace=@tracemart/storefront && test -f storefront/dist/index.html; fi

FROM ${NODE_IMAGE} AS runtime
ARG NODE_IMAGE
ARG SERVICE
# root by default: the code is not writable by the process. Tilt passes SOURCE_OWNER=1000:1000 so live_update can sync.
ARG SOURCE_OWNER=0:0
ARG VERSION=dev
ARG REVISION=unknown
ARG CREATED=unknown
RUN test -n "$SERVICE" || (echo "build with --build-arg SERVICE=services/<name> or SERVICE=gateway" >&2; exit 1)
LABEL org.opencontainers.image.title="tracemart-${SERVICE}" \
      org.opencontainers.image.description="tracemart ${SERVICE}: observability-first e-commerce demo" \
      org.opencontainers.image.source="https://github.com/tracemart/tracemart" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.licenses="MIT" \
      org.opencontainers.image.base.name="${NODE_IMAGE}"
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps --chown=${SOURCE_OWNER} /app/ ./
COPY --chown=${SOURCE_OWNER} tsconfig.base.json ./
COPY --chown=${SOURCE_OWNER} packages/ ./packages/
COPY --chown=${SOURCE_OWNER} ${SERVICE}/ ./${SERVICE}/
# Empty except in the gateway image (STOREFRONT_DIR defaults to this folder).
COPY --from=storefront --chown=${SOURCE_OWNER} /src/storefront/dist/ ./storefront/dist/
WORKDIR /app/${SERVICE}
# The official image's `node` user; numeric so Kubernetes can check runAsNonRoot.
USER 1000:1000
# node itself is PID 1 and receives SIGTERM directly (no npm in between); the platform's lifecycle handles it.
CMD ["node", "--max-semi-space-size=4", "--require", "tsx/cjs", "--require", "@tracemart/platform/preload", "src/main.ts"]
