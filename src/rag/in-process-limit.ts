/**
 * The input limit and exact token counting of an in-process llama.cpp model, for the context
 * budget (src/rag/answer.ts fits the prompt to it). Used by `serve`, `eval generation` and the
 * library's answer/answerStream. Light: no HTTP or llama.cpp import.
 */
import type { LanguageModel, LanguageModelInput } from "../llm/port.js";
import type { PromptLimit } from "./retrieve.js";
import type { TokenCounter } from "./steps/context.js";
import { cachedTokenCounter } from "./token-count-cache.js";

export type InProcessEngineLimits = {
  limits: { maxInputTokens: number; maxTotalTokens: number };
  countTokens(input: LanguageModelInput): number;
  /**
   * The engine counting now, when this object stands for one that can change (a registry model's,
   * swapped by POST /admin/reload): cached token counts are dropped when it changes. Default: this object.
   */
  readonly identity?: unknown;
};

/** Exact token counting and input limit of an in-process llama.cpp model, for the context budget. */
export function inProcessPromptLimit(engine: InProcessEngineLimits): {
  countTokens: TokenCounter;
  promptLimit: PromptLimit;
} {
  return {
    countTokens: cachedTokenCounter((text) => engine.countTokens({ prompt: text }), {
      identity: () => engine.identity ?? engine,
    }),
    // Read at each use, not copied: a registry model's engine changes on POST /admin/reload.
    promptLimit: {
      get maxInputTokens() {
        return engine.limits.maxInputTokens;
      },
      get maxTotalTokens() {
        return engine.limits.maxTotalTokens;
      },
      countInputTokens: (input) => engine.countTokens(input),
    },
  };
}

/** The engine of an in-process model (createLlamaCppLanguageModel's `engine`), undefined for a remote one. */
export function inProcessEngineOf(llm: LanguageModel): InProcessEngineLimits | undefined {
  const engine = (llm as { engine?: Partial<InProcessEngineLimits> }).engine;
  if (engine === undefined || typeof engine.countTokens !== "function") return undefined;
  const limits = engine.limits;
  if (typeof limits?.maxInputTokens !== "number" || typeof limits.maxTotalTokens !== "number") return undefined;
  return engine as InProcessEngineLimits;
}
