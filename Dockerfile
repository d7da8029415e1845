# One image for every swell program; the Kubernetes manifests pick the program with `args`:
#   dist/services/api/main.js  dist/services/worker/main.js  dist/sidecar/agent/main.js
#   dist/sidecar/controller/main.js  dist/tools/load/main.js
# Why one image and not a target per program: the programs share almost all their code and all
# their dependencies, so one build, one push, and a node pulls the layers once for the app and
# its agent sidecar. A fork that renames services changes no line here.
#
# Targets: `runtime` (the default, last) runs the compiled dist/; `dev` runs the TypeScript
# sources with `node --watch` (Node 24 strips the types) for `skaffold dev`'s file sync.

ARG NODE_IMAGE=node:24-slim

FROM ${NODE_IMAGE} AS base
WORKDIR /app

# Every dependency, for the compiler.
FROM base AS deps
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm npm ci --no-audit --no-fund

# Production dependencies only. No install scripts: none of them needs one to work.
FROM base AS prod-deps
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm npm ci --omit=dev --no-audit --no-fund --ignore-scripts

# `npm run build`: tsc to dist/, the .ts imports rewritten to .js, and the controller's live
# page (sidecar/controller/ui/static/) copied beside it; uPlot comes with the production deps.
FROM deps AS build
COPY tsconfig.json tsconfig.build.json ./
COPY services services
COPY sidecar sidecar
COPY tools tools
RUN npm run build

# For `skaffold dev`: the sources, owned by the runtime user so that skaffold can sync changed
# files into /app (with tar, which this Debian base has) and `node --watch` restarts on them.
FROM base AS dev
RUN chown 1000:1000 /app
COPY --chown=1000:1000 --from=prod-deps /app/node_modules node_modules
COPY --chown=1000:1000 package.json ./
COPY --chown=1000:1000 services services
COPY --chown=1000:1000 sidecar sidecar
COPY --chown=1000:1000 tools tools
USER 1000:1000
ENTRYPOINT ["node"]
CMD ["--watch", "services/api/main.ts"]

# The runtime: Node and the compiled programs, nothing to build or install with. Files belong
# to root and are read-only to the program's user (1000, numeric so runAsNonRoot can check it).
FROM base AS runtime
ENV NODE_ENV=production
RUN rm -rf /usr/local/lib/node_modules/npm /usr/local/lib/node_modules/corepack \
    /usr/local/bin/npm /usr/local/bin/npx /usr/local/bin/corepack \
    /usr/local/bin/yarn /usr/local/bin/yarnpkg /opt/yarn-*
COPY --from=prod-deps /app/node_modules node_modules
COPY package.json ./
COPY --from=build /app/dist dist
USER 1000:1000
ENTRYPOINT ["node"]
CMD ["dist/services/api/main.js"]
