# One image for the three apps; docker-compose.yml picks the command (default: the API server).
# Node 22 LTS: what pg-boss 12 and @scalar/api-reference declare (the code also runs on Node >= 20.19,
# see README "Node versions").
FROM node:22-bookworm-slim

# tini as PID 1: forwards SIGTERM to node (graceful shutdown) and reaps zombies.
RUN apt-get update \
  && apt-get install -y --no-install-recommends tini \
  && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY package.json package-lock.json ./
COPY apps/api-server/package.json apps/api-server/
COPY apps/data-server/package.json apps/data-server/
COPY apps/worker/package.json apps/worker/
COPY apps/sightline/package.json apps/sightline/
COPY apps/agent/package.json apps/agent/
COPY packages/domain/package.json packages/domain/
COPY packages/http/package.json packages/http/
COPY packages/jsonapi/package.json packages/jsonapi/
COPY packages/openapi/package.json packages/openapi/
COPY packages/render/package.json packages/render/
COPY packages/runtime/package.json packages/runtime/
COPY packages/client/package.json packages/client/
RUN npm install --no-audit --no-fund --omit=dev --ignore-scripts && npm cache clean --force
# .dockerignore keeps node_modules, .git, .sightline (secrets), tests and benches out
COPY . .
# precompiled apps (dist/<app>.mjs; `--ignore-scripts` skipped `prepare`)
RUN node scripts/build-apps.mjs

ENV NODE_ENV=production HOST=0.0.0.0
USER node
EXPOSE 8080 8081

# The API server's /health (also checks the database); compose points the data server's at 8081
# and turns it off for the worker, which has no HTTP port.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 CMD ["node", "scripts/healthcheck.mjs"]

ENTRYPOINT ["/usr/bin/tini", "--"]
# node directly (not npm): signals reach the process, no npm wrapper in the process tree
CMD ["node", "--max-semi-space-size=4", "scripts/run-app.mjs", "api-server"]
