/**
 * How the native loop applies LoRA adapters (`--lora-mode`): "batched" applies each token's
 * adapter inside one llama.cpp decode of one context (native/src/batched-lora.h), so requests on
 * different adapters and on the base share every decode step; "contexts" sets an adapter on a
 * whole llama.cpp context, one context per adapter set decoded at once (`--lora-contexts`).
 * "auto" (the default) is batched when every adapter can be applied per token, else contexts.
 */
import { AppError } from "../../errors/index.js";
import type { LoraAdapter } from "./engine-types.js";
import type { TensorShape } from "./lora-files.js";

export const LORA_MODES = ["auto", "batched", "contexts"] as const;
export type LoraMode = (typeof LORA_MODES)[number];

export type LoraModeDecision = {
  mode: "batched" | "contexts";
  requested: LoraMode;
  /** With auto falling back to contexts: the adapter that cannot be applied per token, and why. */
  reason?: string;
  /** A --lora-contexts given to batched mode, which serves every adapter in one context. */
  ignoredLoraContexts?: number;
};

/** What the per-token mode needs to know of an adapter file. */
export type LoraFileFacts = {
  tensors: ReadonlyArray<{ name: string; ggmlType: number }>;
  /** The file has `adapter.alora.invocation_tokens` (an activated LoRA). */
  activated: boolean;
};

const GGML_F32 = 0;
const GGML_F16 = 1;

/**
 * Why an adapter cannot be applied per token (undefined: it can): its lora_a / lora_b must be F32
 * or F16 (read as F32 by the loop), each adapted weight must reach llama.cpp's graph as a plain
 * matrix multiplication (not token_embd, a lookup; not the experts of a mixture, multiplied per
 * expert; not a weight with a scale tensor, whose scale llama.cpp applies before the adapter), and
 * it must not be an activated LoRA (applied from its invocation tokens on, not per token).
 */
export function batchedLoraObstacle(
  facts: LoraFileFacts,
  baseTensors?: readonly Pick<TensorShape, "name">[],
): string | undefined {
  if (facts.activated) return "it is an activated LoRA (aLoRA), applied from its invocation tokens on";
  const baseNames = baseTensors === undefined ? undefined : new Set(baseTensors.map((tensor) => tensor.name));
  for (const tensor of facts.tensors) {
    if (tensor.ggmlType !== GGML_F32 && tensor.ggmlType !== GGML_F16) {
      return `${tensor.name} is neither F32 nor F16 (GGML type ${tensor.ggmlType})`;
    }
    const weight = tensor.name.replace(/\.lora_[ab]$/, "");
    if (weight.endsWith("token_embd.weight")) return `it adapts ${weight}, an embedding lookup`;
    if (/_exps\.weight$/.test(weight)) return `it adapts ${weight}, expert weights multiplied per expert`;
    const scale = weight.replace(/\.weight$/, ".scale");
    if (baseNames?.has(scale) === true) return `the model scales ${weight} by ${scale} before the adapter applies`;
  }
  return undefined;
}

/**
 * The mode the loop runs: "batched" asked for with an adapter that cannot be applied per token is a
 * configuration error; "auto" then falls back to contexts and says why.
 */
export function chooseLoraMode(
  requested: LoraMode,
  adapters: ReadonlyArray<{ adapter: Pick<LoraAdapter, "name">; obstacle: string | undefined }>,
): LoraModeDecision {
  if (requested === "contexts") return { mode: "contexts", requested };
  const blocked = adapters.find(({ obstacle }) => obstacle !== undefined);
  if (blocked === undefined) return { mode: "batched", requested };
  const reason = `LoRA adapter '${blocked.adapter.name}' cannot be applied per token: ${blocked.obstacle}`;
  if (requested === "batched") {
    throw new AppError(
      "configuration_error",
      `--lora-mode batched: ${reason}; serve it with --lora-mode contexts (or auto, which falls back to contexts)`,
      { details: { adapter: blocked.adapter.name } },
    );
  }
  return { mode: "contexts", requested, reason };
}

/** The start-up log line of a server with adapters. */
export function describeLoraModeForLog(decision: LoraModeDecision, contexts: number): string {
  if (decision.mode === "batched") {
    const ignored =
      decision.ignoredLoraContexts === undefined
        ? ""
        : `; --lora-contexts ${decision.ignoredLoraContexts} applies to --lora-mode contexts only`;
    return `LoRA: batched (each token's adapter applied inside one llama.cpp decode; base and adapters share every step)${ignored}`;
  }
  const how = `contexts (${contexts} llama.cpp context${contexts === 1 ? "" : "s"}, one adapter set each)`;
  if (decision.reason !== undefined) return `LoRA: ${how}, because ${decision.reason} (--lora-mode auto)`;
  return `LoRA: ${how}`;
}

/** Reads what batchedLoraObstacle needs from each adapter file (its GGUF header only). */
export async function readLoraFileFacts(path: string): Promise<LoraFileFacts> {
  const { readGgufFileInfo } = await import("node-llama-cpp");
  return loraFileFacts(await readGgufFileInfo(path, { logWarnings: false }));
}

/** What batchedLoraObstacle needs, from an adapter's GGUF header already read. */
export function loraFileFacts(info: {
  metadata: unknown;
  tensorInfo?: ReadonlyArray<{ name: string; ggmlType: number | bigint }>;
}): LoraFileFacts {
  const adapter = (info.metadata as { adapter?: { alora?: { invocation_tokens?: unknown } } }).adapter;
  return {
    tensors: (info.tensorInfo ?? []).map(({ name, ggmlType }) => ({ name, ggmlType: Number(ggmlType) })),
    activated: adapter?.alora?.invocation_tokens !== undefined,
  };
}

/**
 * The start-up warning for LoRA options given to a server that serves no adapter (no --lora, no
 * registry adapters): they change nothing, which the user who set them should hear about.
 */
export function unusedLoraOptionsWarning(options: {
  adapters: number;
  loraMode: LoraMode | undefined;
  loraContexts: number | undefined;
}): string | undefined {
  if (options.adapters > 0) return undefined;
  const unused = [
    ...(options.loraMode !== undefined && options.loraMode !== "auto" ? [`--lora-mode ${options.loraMode}`] : []),
    ...(options.loraContexts !== undefined ? [`--lora-contexts ${options.loraContexts}`] : []),
  ];
  if (unused.length === 0) return undefined;
  return `${unused.join(" and ")} ignored: no LoRA adapter is served (add --lora <name>=<path.gguf>)`;
}
