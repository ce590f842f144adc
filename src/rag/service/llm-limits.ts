/**
 * The input limits of a remote LLM service, read once from its TGI `GET /info`
 * (`max_input_tokens` / `max_input_length`, `max_total_tokens`), so that the context budget leaves
 * room for the whole prompt. Without the service's tokenizer the prompt is estimated at
 * 4 characters per token, plus a few tokens per chat message for the template.
 */
import type { LanguageModelInput } from "../../llm/index.js";
import type { PromptLimit } from "../retrieve.js";
import { estimateTokens } from "../steps/context.js";

const TOKENS_PER_MESSAGE = 8;

export function estimateInputTokens(input: LanguageModelInput): number {
  if ("prompt" in input) return estimateTokens(input.prompt);
  return input.messages.reduce((total, message) => total + estimateTokens(message.content) + TOKENS_PER_MESSAGE, 0);
}

type TgiInfo = { max_input_tokens?: unknown; max_input_length?: unknown; max_total_tokens?: unknown };

const positive = (value: unknown): number | undefined =>
  typeof value === "number" && Number.isInteger(value) && value > 0 ? value : undefined;

/** The limits of the TGI service at `url`, or undefined when it does not say (or cannot be reached). */
export async function readTgiPromptLimit(url: string, timeoutMs: number): Promise<PromptLimit | undefined> {
  if (!/^https?:\/\//.test(url)) return undefined;
  const response = await fetch(`${url.replace(/\/+$/, "")}/info`, { signal: AbortSignal.timeout(timeoutMs) });
  if (!response.ok) return undefined;
  const info = (await response.json()) as TgiInfo;
  const maxInputTokens = positive(info.max_input_tokens) ?? positive(info.max_input_length);
  if (maxInputTokens === undefined) return undefined;
  const maxTotalTokens = positive(info.max_total_tokens);
  return {
    maxInputTokens,
    ...(maxTotalTokens === undefined ? {} : { maxTotalTokens }),
    countInputTokens: estimateInputTokens,
  };
}
