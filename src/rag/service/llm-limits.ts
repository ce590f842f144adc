/**
 * The input limits of a remote LLM service, read once from its TGI `GET /info`
 * (`max_input_tokens` / `max_input_length`, `max_total_tokens`), so that the context budget leaves
 * room for the whole prompt. TGI has no token-counting endpoint, so the service's tokenizer is
 * calibrated once: a probe prose longer than the input limit is sent to `POST /generate`, and the
 * 422 answer ("must have less than N tokens. Given: M") says how many characters make a token.
 * Prompts are then estimated at that rate (never more than 4 characters per token), plus a few
 * tokens per chat message for the template.
 */
import type { LanguageModelInput } from "../../llm/index.js";
import type { PromptLimit } from "../retrieve.js";
import type { TokenCounter } from "../steps/context.js";

const TOKENS_PER_MESSAGE = 8;
/** Characters per token assumed for a real tokenizer on English prose (and the most ever assumed). */
const DEFAULT_CHARS_PER_TOKEN = 4;
/** The measured rate is lowered by this factor: retrieved text (code, links) tokenizes worse than the probe. */
const CALIBRATION_SAFETY = 0.75;
const PROBE_SENTENCE =
  "Retrieval-augmented generation grounds a model's answers in 3 or 4 documents, e.g. articles, posts and code; " +
  "the context (about 1,000 tokens) is cut at sentence boundaries! ";

export function charsPerTokenCounter(charsPerToken: number): TokenCounter {
  return (text) => Math.ceil(text.length / charsPerToken);
}

export function inputTokenCounter(countTokens: TokenCounter): (input: LanguageModelInput) => number {
  return (input) => {
    if ("prompt" in input) return countTokens(input.prompt);
    return input.messages.reduce((total, message) => total + countTokens(message.content) + TOKENS_PER_MESSAGE, 0);
  };
}

export const estimateInputTokens = inputTokenCounter(charsPerTokenCounter(DEFAULT_CHARS_PER_TOKEN));

type TgiInfo = { max_input_tokens?: unknown; max_input_length?: unknown; max_total_tokens?: unknown };

const positive = (value: unknown): number | undefined =>
  typeof value === "number" && Number.isInteger(value) && value > 0 ? value : undefined;

/**
 * Characters per token of the service's tokenizer, from the 422 it gives a probe longer than its
 * input limit; undefined when it does not tell (the probe fit, or another answer).
 */
async function measureCharsPerToken(
  base: string,
  maxInputTokens: number,
  timeoutMs: number,
  fetcher: typeof fetch,
): Promise<number | undefined> {
  const inputs = PROBE_SENTENCE.repeat(Math.ceil(((maxInputTokens + 1) * 6) / PROBE_SENTENCE.length));
  const response = await fetcher(`${base}/generate`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ inputs, parameters: { max_new_tokens: 1 } }),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await response.text();
  if (response.status !== 422) return undefined;
  const given = /Given:\s*(\d+)/.exec(text)?.[1];
  const tokens = given === undefined ? undefined : Number(given);
  return tokens === undefined || tokens <= 0 ? undefined : inputs.length / tokens;
}

/** The limits of the TGI service at `url`, or undefined when it does not say (or cannot be reached). */
export async function readTgiPromptLimit(
  url: string,
  timeoutMs: number,
  fetcher: typeof fetch = fetch,
): Promise<PromptLimit | undefined> {
  if (!/^https?:\/\//.test(url)) return undefined;
  const base = url.replace(/\/+$/, "");
  const response = await fetcher(`${base}/info`, { signal: AbortSignal.timeout(timeoutMs) });
  if (!response.ok) return undefined;
  const info = (await response.json()) as TgiInfo;
  const maxInputTokens = positive(info.max_input_tokens) ?? positive(info.max_input_length);
  if (maxInputTokens === undefined) return undefined;
  const maxTotalTokens = positive(info.max_total_tokens);
  const measured = await measureCharsPerToken(base, maxInputTokens, timeoutMs, fetcher).catch(() => undefined);
  const charsPerToken = Math.min(
    DEFAULT_CHARS_PER_TOKEN,
    measured === undefined ? DEFAULT_CHARS_PER_TOKEN : measured * CALIBRATION_SAFETY,
  );
  const countTokens = charsPerTokenCounter(charsPerToken);
  return {
    maxInputTokens,
    ...(maxTotalTokens === undefined ? {} : { maxTotalTokens }),
    countInputTokens: inputTokenCounter(countTokens),
    countTokens,
  };
}

/**
 * A prompt limit learned late: when no LLM replica answered at start-up, the limit is looked up
 * again (at most every `retryMs`) before requests, until one answers. Until then, no input limit
 * and the default 4-characters-per-token estimate apply.
 */
export function lateLearnedPromptLimit(
  learn: () => Promise<PromptLimit | undefined>,
  retryMs: number,
  now: () => number = Date.now,
): PromptLimit {
  let learned: PromptLimit | undefined;
  let lastAttempt = Number.NEGATIVE_INFINITY;
  let attempt: Promise<void> | undefined;
  const fallbackCount = charsPerTokenCounter(DEFAULT_CHARS_PER_TOKEN);
  return {
    get maxInputTokens() {
      return learned?.maxInputTokens ?? Number.POSITIVE_INFINITY;
    },
    get maxTotalTokens() {
      return learned?.maxTotalTokens ?? Number.POSITIVE_INFINITY;
    },
    // Getters: the counters change identity once learned (answer.ts caches per counter).
    get countInputTokens() {
      return learned?.countInputTokens ?? estimateInputTokens;
    },
    get countTokens() {
      return learned?.countTokens ?? fallbackCount;
    },
    refresh() {
      if (learned !== undefined) return Promise.resolve();
      if (attempt === undefined && now() - lastAttempt >= retryMs) {
        lastAttempt = now();
        attempt = learn()
          .then((limit) => {
            learned = limit;
          })
          .catch(() => {})
          .finally(() => {
            attempt = undefined;
          });
      }
      return attempt ?? Promise.resolve();
    },
  };
}

/** `fetch` sending `Authorization: Bearer <key>` on every request (serve-rag's --llm-api-key); plain fetch without a key. */
export function fetchWithBearer(key: string | undefined): typeof fetch {
  if (key === undefined || key === "") return fetch;
  return (input, init) => {
    const headers = new Headers(init?.headers);
    headers.set("authorization", `Bearer ${key}`);
    return fetch(input, { ...init, headers });
  };
}
