# rekon container image. Build: docker build -t rekon .
# Multi-stage: TypeScript is compiled in the build stage; the runtime stage has production dependencies only.
FROM node:24-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json ./
COPY reconciler ./reconciler
COPY schemas ./schemas
COPY scripts/build-info.mjs ./scripts/
RUN npm run build

FROM node:24-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY --from=build /src/dist ./dist
COPY schemas ./schemas
RUN ln -s /app/dist/reconciler/bin.js /usr/local/bin/rekon && chmod +x /app/dist/reconciler/bin.js
# Non-root (uid 1000), and nothing is written at run time (logs go to stdout; an --audit-file belongs on a
# mounted volume), so a read-only root filesystem works. Node handles SIGTERM itself: `rekon run` installs
# its own handlers, so no init process is needed.
USER node
EXPOSE 8080
ENTRYPOINT ["rekon"]
# The controller; pass --manifests and the rest as container args (deploy/k8s/deployment.yaml).
CMD ["run"]
