# rekon container image.
#   docker build -t rekon \
#     --build-arg VERSION="$(node -p 'require("./package.json").version')" --build-arg REVISION="$(git rev-parse HEAD)" \
#     --build-arg CREATED="$(date -u +%Y-%m-%dT%H:%M:%SZ)" --build-arg SOURCE=https://github.com/your-org/rekon .
# Three stages: build compiles TypeScript and writes the SBOM; deps installs production dependencies;
# runtime is Node with those copied in and nothing else (the SBOM at /usr/share/rekon/sbom.cdx.json, named by
# the label dev.rekon.sbom): no npm, npx, corepack or yarn (not needed to run rekon, and code
# that is not there cannot be exploited or flagged by scanners). scripts/image-check.sh repeats these steps
# without Docker and checks that the COPY lines below are the ones it repeats: keep both in step.
ARG NODE_IMAGE=node:24-bookworm-slim
ARG VERSION=unknown
ARG REVISION=unknown
ARG CREATED=unknown
ARG SOURCE=unknown

FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
# --ignore-scripts: no dependency needs an install script, and package.json's prepare would build before
# the sources are here.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json ./
COPY reconciler ./reconciler
COPY schemas ./schemas
COPY scripts/build.mjs scripts/build-info.mjs scripts/sbom-check.mjs ./scripts/
ARG REVISION
# dist/build-info.json records the revision for rekon_build_info (.git is not in the build context).
RUN REKON_REVISION="$REVISION" npm run build
# The CycloneDX SBOM of the runtime dependencies: the deps stage installs exactly these, from the same
# lockfile. Checked here (schema-valid, every runtime dependency with version and licence), so an image
# never carries a wrong one.
RUN npm run sbom --silent && node scripts/sbom-check.mjs sbom.cdx.json

FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

FROM ${NODE_IMAGE} AS runtime
RUN rm -rf /usr/local/lib/node_modules /usr/local/bin/npm /usr/local/bin/npx /usr/local/bin/corepack \
      /usr/local/bin/yarn /usr/local/bin/yarnpkg /opt/yarn-*
ENV NODE_ENV=production
WORKDIR /app
COPY package.json ./
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY schemas ./schemas
COPY --from=build /src/sbom.cdx.json /usr/share/rekon/sbom.cdx.json
RUN ln -s /app/dist/reconciler/bin.js /usr/local/bin/rekon
ARG VERSION
ARG REVISION
ARG CREATED
ARG SOURCE
LABEL org.opencontainers.image.title="rekon" \
      org.opencontainers.image.description="Policy-guarded GitOps reconciler for Amazon Rekognition project versions" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.source="${SOURCE}" \
      dev.rekon.sbom="/usr/share/rekon/sbom.cdx.json"
# A numeric non-root user (no passwd entry needed), so Kubernetes' runAsNonRoot can verify it. Nothing is
# written at run time (logs go to stderr; an --audit-file belongs on a mounted volume), so a read-only root
# filesystem works. Node handles SIGTERM itself: `rekon run` installs its own handlers, no init needed.
USER 65532:65532
EXPOSE 8080
ENTRYPOINT ["rekon"]
# The controller; pass --manifests and the rest as container args (deploy/k8s/deployment.yaml).
CMD ["run"]
