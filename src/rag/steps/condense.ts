/**
 * Condensing: the LLM rewrites a follow-up question and the conversation before it into one
 * standalone question, which retrieval then searches ("what does he recommend before SFT?" →
 * "What does Maxime Labonne recommend before SFT?"). The prompt lives with the other serving
 * templates (versioned by CONDENSE_PROMPT_VERSION, covered by the prompt templates fingerprint). Whatever comes back is checked: an empty,
 * too long, gibberish or unrelated rewrite (./condense-check.ts) falls back to the raw question, as
 * does a failed call.
 */
import type { LanguageModel } from "../../llm/index.js";
import { formatCondensePrompt } from "../../preprocessing/index.js";
import type { HistoryTurn } from "../types.js";
import { checkRewrite, type RewriteCheckOptions } from "./condense-check.js";

export type CondenseMode = "llm" | "off";

export type Condensed = {
  /** The question retrieval uses. */
  question: string;
  /** "llm": the rewrite is used; otherwise why the raw question is. */
  outcome: "llm" | "off" | "no-history" | "empty" | "too-long" | "gibberish" | "unrelated" | "failed";
  /** What the LLM wrote (first line, trimmed), when it answered. */
  rewrite?: string;
  /** The sanity check's measures of the rewrite (./condense-check.ts), when it was checked. */
  wordShare?: number;
  overlap?: number;
};

export type CondenseOptions = {
  llm: LanguageModel | undefined;
  maxNewTokens: number;
  /** Longest accepted rewrite, in characters (the query limit). */
  maxChars: number;
  /** Thresholds of the sanity check (./condense-check.ts); both 0 accept any rewrite. */
  check: RewriteCheckOptions;
  signal?: AbortSignal;
};

/** The first non-empty line of the answer, without a "Standalone question:" echo or quotes. */
export function parseCondensed(text: string): string {
  const line =
    text
      .split("\n")
      .map((item) => item.trim())
      .find((item) => item !== "") ?? "";
  return line
    .replace(/^standalone question\s*:\s*/i, "")
    .replace(/^["'“”]+|["'“”]+$/g, "")
    .trim();
}

/**
 * Rewrites `question` with `history`; never throws for an LLM failure (the raw question is the
 * fallback), only when the request itself was aborted.
 */
export async function condenseQuestion(
  question: string,
  history: readonly HistoryTurn[],
  mode: CondenseMode,
  options: CondenseOptions,
): Promise<Condensed> {
  if (mode === "off" || options.llm === undefined) return { question, outcome: "off" };
  if (history.length === 0) return { question, outcome: "no-history" };
  let text: string;
  try {
    const result = await options.llm.generate({
      prompt: formatCondensePrompt(history, question),
      maxNewTokens: options.maxNewTokens,
      temperature: 0,
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    });
    text = result.text;
  } catch (error) {
    if (options.signal?.aborted) throw error;
    return { question, outcome: "failed" };
  }
  const rewrite = parseCondensed(text);
  if (rewrite === "") return { question, outcome: "empty" };
  if (rewrite.length > options.maxChars) return { question, outcome: "too-long", rewrite };
  const turns = history.map((turn) => turn.content);
  const { failure, wordShare, overlap } = checkRewrite(rewrite, question, turns, options.check);
  if (failure !== undefined) return { question, outcome: failure, rewrite, wordShare, overlap };
  return { question: rewrite, outcome: "llm", rewrite, wordShare, overlap };
}
