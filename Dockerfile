# syntax=docker/dockerfile:1
# Build: compile TypeScript with the dev dependencies.
FROM node:24-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
# The dashboard: ui/ bundled by scripts/build-ui.mjs into build/ui (part of npm run build).
COPY ui ./ui
COPY scripts/build-ui.mjs ./scripts/build-ui.mjs
RUN npm run build

# Runtime: production dependencies, compiled code and migrations only; runs as the non-root `node` user.
FROM node:24-slim
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000 \
    MIR_DATA_DIR=/data
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
# build/src only: the compiler's incremental state (build/*.tsbuildinfo) stays in the build stage.
COPY --from=build /app/build/src ./build/src
# The release dashboard served at /ui/ (MIR_UI_DIR's default, build/ui under the package).
COPY --from=build /app/build/ui ./build/ui
COPY migrations ./migrations
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
# The node binary is PID 1's child-free main process, so SIGTERM reaches the graceful shutdown.
CMD ["node", "build/src/server.js"]
