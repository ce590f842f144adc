/**
 * The models serve-llm serves, as OpenAI clients name them: the /v1/models entries (base model,
 * LoRA adapters, embedding model) and what a request's `model` selects.
 */
import { AppError } from "../../errors/index.js";
import type { LlamaCppEngine } from "../../llm/llama-cpp/index.js";
import type { EmbeddingHolder } from "../embedding-holder.js";
import type { ModelHolder } from "../model-holder.js";

/** One /v1/models entry: OpenAI's fields, then ours. */
function modelEntry(id: string, startedAt: number, extra: Record<string, unknown>): Record<string, unknown> {
  return { id, object: "model", created: Math.floor(startedAt / 1000), owned_by: "llm-twin", ...extra };
}

/** GET /v1/models: the model, one entry per LoRA adapter, then the embedding model once loaded. */
export function servedModelEntries(
  holder: ModelHolder,
  embeddings: EmbeddingHolder | undefined,
  startedAt: number,
): Array<Record<string, unknown>> {
  const engine = holder.require();
  const entries = [
    modelEntry(engine.modelId, startedAt, {
      meta: {
        max_total_tokens: engine.limits.maxTotalTokens,
        parallel: engine.info.parallel,
        registry: holder.served.model,
      },
    }),
    ...engine.info.adapters.map((adapter) =>
      modelEntry(adapter.name, startedAt, {
        parent: engine.modelId,
        meta: { lora_scale: adapter.scale, ...registryMeta(holder, adapter.name) },
      }),
    ),
  ];
  const served = embeddings?.model;
  if (served === undefined) return entries;
  const embedder = served.embedder;
  return [
    ...entries,
    modelEntry(served.name, startedAt, {
      meta: {
        type: "embedding",
        embedder_id: embedder.id,
        dimensions: embedder.dimensions,
        max_input_tokens: embedder.maxInputTokens,
        max_inputs: served.maxInputs,
        registry: served.registry ?? null,
      },
    }),
  ];
}

/** The embedding model's name on a completion route is a mistake worth saying: it does not generate. */
export function refuseEmbeddingModel(
  engine: LlamaCppEngine,
  embeddings: EmbeddingHolder | undefined,
  model: string | null | undefined,
): void {
  if (model == null || model !== embeddings?.model?.name) return;
  if (model === engine.modelId || engine.info.adapters.some((adapter) => adapter.name === model)) return;
  const generating = [engine.modelId, ...engine.info.adapters.map((adapter) => adapter.name)];
  throw new AppError(
    "validation_error",
    `Input validation error: \`model\` '${model}' is the embedding model (POST /v1/embeddings); generate with ${generating.map((name) => `'${name}'`).join(" or ")}`,
    { details: { param: "model" } },
  );
}

/** An adapter's registry version and author (null when it does not come from the registry). */
export function registryMeta(
  holder: ModelHolder,
  name: string,
): { registry: { name: string; version: number } | null; author: string | null } {
  const served = holder.served.adapters.find((adapter) => adapter.name === name);
  return { registry: served?.registry ?? null, author: served?.author ?? null };
}

/** `model` values that mean the base model besides its id: TGI's placeholder, sent by TGI clients. */
const BASE_MODEL_ALIASES: ReadonlySet<string> = new Set(["tgi"]);

/**
 * The LoRA adapter an OpenAI `model` selects (as vLLM serves them): an adapter's name, else the base
 * model. Without adapters any name means the base model (as llama-server and TGI). With adapters, a
 * name that is neither the base model's id nor an adapter's is refused: a misspelt adapter must not
 * answer in the base model's voice.
 */
export function adapterForModel(
  engine: LlamaCppEngine,
  model: string | null | undefined,
): { name: string; scale: number } | undefined {
  const adapters = engine.info.adapters;
  const adapter = adapters.find((candidate) => candidate.name === model);
  if (adapter !== undefined || model == null || model === "" || adapters.length === 0) return adapter;
  if (model === engine.modelId || BASE_MODEL_ALIASES.has(model)) return undefined;
  const names = adapters.map((candidate) => `'${candidate.name}'`).join(", ");
  throw new AppError(
    "unknown_adapter",
    `Unknown adapter '${model}' in \`model\`: this server serves the base model '${engine.modelId}' and the adapters ${names} (GET /v1/models); send one of these names`,
    { details: { param: "model", adapter: model } },
  );
}
