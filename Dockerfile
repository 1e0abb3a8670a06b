# One image for the three apps; docker-compose.yml picks the command.
FROM node:22-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json ./
COPY apps/api-server/package.json apps/api-server/
COPY apps/data-server/package.json apps/data-server/
COPY apps/worker/package.json apps/worker/
COPY apps/sightline/package.json apps/sightline/
COPY packages/domain/package.json packages/domain/
COPY packages/jsonapi/package.json packages/jsonapi/
RUN npm install --no-audit --no-fund --omit=dev --ignore-scripts
COPY . .
# precompiled apps (npm start / start:* run dist/<app>.mjs; `--ignore-scripts` skipped `prepare`)
RUN node scripts/build-apps.mjs
ENV HOST=0.0.0.0
USER node
CMD ["npm", "run", "start:api"]
