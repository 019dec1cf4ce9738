# syntax=docker/dockerfile:1.7
#
# One recipe for every reelay process; choose the process with --target:
#
#   docker build --target gateway      -t reelay/gateway .
#   docker build --target intake       -t reelay/intake .        (dispatch, polling, notification alike)
#   docker build --target provider-sim -t reelay/provider-sim .  (provider simulator + local renderer)
#   docker build --target migrate      -t reelay/migrate .       (one-shot `npm run migrate`)
#   docker build --target ops-cli      -t reelay/ops-cli .       (`docker run reelay/ops-cli keys create ...`)
#
# Every target shares the `runtime` stage, so building several of them reuses all layers but the
# last few. Only the production dependencies and the compiled dist/ folders end up in the images.

ARG NODE_IMAGE=node:20-bookworm-slim

# ---------------------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS base
WORKDIR /app
# The lockfile was written by npm 11; the same major reads it the same way (and honours the
# package.json "allowScripts" list of packages whose install scripts may run).
ARG NPM_VERSION=11.19.1
RUN npm install -g "npm@${NPM_VERSION}" --no-audit --no-fund && npm cache clean --force
ENV NX_DAEMON=false \
    NX_NO_CLOUD=true \
    npm_config_update_notifier=false

# ---------------------------------------------------------------------------------------------
# Only the workspaces' package.json files, at their own paths. `COPY apps/*/package.json` would
# flatten them into one folder, so they are collected here instead; because the output of this
# stage changes only when a manifest changes, the `npm ci` layers below stay cached across
# source edits.
FROM base AS manifests
COPY . /src
RUN mkdir /manifests \
 && cd /src \
 && find . -name package.json -not -path '*/node_modules/*' -not -path '*/dist/*' \
      -exec cp --parents {} /manifests/ \; \
 && cp package-lock.json /manifests/

# ---------------------------------------------------------------------------------------------
# Every dependency (dev included): what the build needs.
FROM base AS deps
COPY --from=manifests /manifests/ ./
RUN --mount=type=cache,target=/root/.npm npm ci --no-audit --no-fund

# ---------------------------------------------------------------------------------------------
FROM deps AS build
COPY . .
RUN npx nx run-many -t build --output-style=static
# Gather apps/*/dist and libs/*/dist at their paths for the runtime stage (same reason as above).
RUN mkdir /out \
 && for d in apps/*/dist libs/*/dist; do mkdir -p "/out/$d" && cp -a "$d/." "/out/$d/"; done

# ---------------------------------------------------------------------------------------------
# Production dependencies only. The workspace package.json files are what make
# node_modules/@reelay/* symlinks resolve to apps/* and libs/* (whose "main" is ./dist/...).
FROM base AS prod-deps
COPY --from=manifests /manifests/ ./
# ffmpeg (from @ffmpeg-installer/*) may be packed as 0744, which the non-root user below could not
# execute. Development tools (the embedded PostgreSQL of `npm start`, ffprobe for tests) stay out.
RUN --mount=type=cache,target=/root/.npm npm ci --omit=dev --no-audit --no-fund \
 && find node_modules/@ffmpeg-installer -type f -name ffmpeg -exec chmod 0755 {} +

# ---------------------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime
WORKDIR /app
ENV NODE_ENV=production \
    HEALTH_PATH=/health/live \
    STORAGE_DIR=/var/lib/reelay/storage \
    LOCAL_RENDER_DIR=/var/lib/reelay/renders
# Mount points owned by the runtime user: Docker copies this ownership into a fresh named volume,
# so the services can write there without running as root.
RUN mkdir -p /var/lib/reelay/storage /var/lib/reelay/renders \
 && chown -R node:node /var/lib/reelay
COPY --from=prod-deps /app/ ./
COPY --from=build /out/ ./
COPY --chmod=0755 deploy/docker/healthcheck.mjs /usr/local/bin/healthcheck
# `node` (uid 1000) comes with the official image. The code stays root-owned and read-only to it.
USER node
# Liveness only: readiness (PostgreSQL and NATS answering) is for orchestrators to route by.
# HEALTH_PORT is set per target below.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 CMD ["healthcheck", "/health/live"]
STOPSIGNAL SIGTERM

# ---------------------------------------------------------------------------------------------
FROM runtime AS gateway
ENV GATEWAY_PORT=3000 HEALTH_PORT=3000
EXPOSE 3000
CMD ["node", "apps/gateway/dist/main.js"]

FROM runtime AS intake
ENV INTAKE_PORT=3001 HEALTH_PORT=3001
EXPOSE 3001
CMD ["node", "apps/intake/dist/main.js"]

FROM runtime AS dispatch
ENV DISPATCH_PORT=3002 HEALTH_PORT=3002
EXPOSE 3002
CMD ["node", "apps/dispatch/dist/main.js"]

FROM runtime AS polling
ENV POLLING_PORT=3003 HEALTH_PORT=3003
EXPOSE 3003
CMD ["node", "apps/polling/dist/main.js"]

FROM runtime AS notification
ENV NOTIFICATION_PORT=3004 HEALTH_PORT=3004
EXPOSE 3004
CMD ["node", "apps/notification/dist/main.js"]

# The simulator serves /_sim/health rather than /health/*, and listens on loopback unless HOST says
# otherwise. The local renderer draws captions with DejaVu Sans when it finds it.
FROM runtime AS provider-sim
USER root
RUN apt-get update \
 && apt-get install -y --no-install-recommends fonts-dejavu-core \
 && rm -rf /var/lib/apt/lists/*
USER node
ENV PORT=4010 HOST=0.0.0.0 HEALTH_PORT=4010 HEALTH_PATH=/_sim/health
EXPOSE 4010
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 CMD ["healthcheck", "/_sim/health"]
CMD ["node", "apps/provider-sim/dist/main.js"]

# One-shot jobs: no server, so no health check.
FROM runtime AS migrate
HEALTHCHECK NONE
CMD ["node", "libs/event-store/dist/cli/migrate.js"]

FROM runtime AS ops-cli
HEALTHCHECK NONE
ENTRYPOINT ["node", "apps/ops-cli/dist/main.js"]
CMD ["--help"]
