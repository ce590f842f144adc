/**
 * The input limit of each language model the library built from a service URL, learned from the
 * service's TGI `GET /info` on its first answer (as serve-rag learns it), so that answer and
 * answerStream fit the prompt to it. Kept beside the model, not in the LanguageModel port.
 */
import type { LanguageModel } from "../llm/port.js";
import type { PromptLimit } from "../rag/retrieve.js";

const limits = new WeakMap<LanguageModel, PromptLimit>();

/** How often an unanswered /info is asked again before a request. */
const RETRY_MS = 5_000;
const INFO_TIMEOUT_MS = 10_000;

/** Remembers the limit of `llm`, read from the TGI service at `url` when first needed. */
export async function learnServicePromptLimit(llm: LanguageModel, url: string, timeoutMs?: number): Promise<void> {
  const { lateLearnedPromptLimit, readTgiPromptLimit } = await import("../rag/service/llm-limits.js");
  limits.set(
    llm,
    lateLearnedPromptLimit(() => readTgiPromptLimit(url, timeoutMs ?? INFO_TIMEOUT_MS), RETRY_MS),
  );
}

export function servicePromptLimitOf(llm: LanguageModel): PromptLimit | undefined {
  return limits.get(llm);
}
