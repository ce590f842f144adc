#!/bin/sh
# Entrypoint of the llm-twin LLM image (runs under tini, which is PID 1).
#
#   <image> serve [extra serve-llm flags]   SageMaker's contract: serve-llm on 0.0.0.0:8080 with the
#                                            model from LLM_TWIN_MODEL, else the first *.gguf
#                                            (sorted by path) under LLM_TWIN_MODEL_DIR (/opt/ml/model)
#   <image> --flag ...                      serve-llm with those flags only (no model discovery)
#   <image> serve-llm|ingest|... [flags]    any other llm-twin command, as is
#   <image> <program> [args]                any other program (sh, node, ...)
#
# `exec` replaces this shell, so node receives tini's signals directly.
set -eu

bin="${LLM_TWIN_BIN:-/app/bin/llm-twin.js}"

if [ "$#" -eq 0 ]; then
  set -- serve
fi

case "$1" in
  serve)
    shift
    model="${LLM_TWIN_MODEL:-}"
    if [ -z "$model" ]; then
      model_dir="${LLM_TWIN_MODEL_DIR:-/opt/ml/model}"
      model="$(find "$model_dir" -maxdepth 4 -type f -name '*.gguf' 2>/dev/null | LC_ALL=C sort | head -n 1)"
      if [ -z "$model" ]; then
        echo "llm-twin-entrypoint: no *.gguf file under ${model_dir} and LLM_TWIN_MODEL is not set" >&2
        exit 64
      fi
    fi
    # SageMaker multi-container endpoints tell the container which port to bind to.
    port="${SAGEMAKER_BIND_TO_PORT:-${LLM_TWIN_PORT:-8080}}"
    exec node "$bin" serve-llm --host "${LLM_TWIN_HOST:-0.0.0.0}" --port "$port" --model "$model" "$@"
    ;;
  -*)
    exec node "$bin" serve-llm "$@"
    ;;
  serve-llm | serve-rag | ingest | worker | artifacts | traces | eval | deploy | help)
    exec node "$bin" "$@"
    ;;
  *)
    exec "$@"
    ;;
esac
