/**
 * OpenAI's two logprobs shapes, built from the engine's token events: chat's
 * `logprobs.content[] = {token, logprob, bytes, top_logprobs[]}` and the legacy completions'
 * `{tokens, token_logprobs, top_logprobs, text_offset}`. Log-probabilities are those of the
 * model's raw distribution (before temperature, bias and grammar), as vLLM reports by default.
 * End-of-generation tokens are not part of the content and are left out.
 */
import type { EngineEvent, LlamaCppEngine } from "../../llm/llama-cpp/index.js";

type TokenEvent = Extract<EngineEvent, { type: "token" }>;

export type ChatTopLogprob = { token: string; logprob: number; bytes: number[] };
export type ChatLogprob = ChatTopLogprob & { top_logprobs: ChatTopLogprob[] };

export type CompletionLogprobs = {
  tokens: string[];
  /** null for the first prompt token with `echo` (nothing precedes it). */
  token_logprobs: Array<number | null>;
  /** null for prompt tokens with `echo` (their alternatives are not computed). */
  top_logprobs: Array<Record<string, number> | null>;
  text_offset: number[];
};

function bytesOf(text: string): number[] {
  return Array.from(Buffer.from(text, "utf8"));
}

/** The token's own text (not the stop-trimmed piece the stream carries). */
function tokenText(engine: LlamaCppEngine, event: TokenEvent): string {
  return event.piece ?? engine.detokenize([event.id]);
}

/**
 * A token's text and its own bytes. A token that is one byte of a character split over several
 * tokens has no text of its own (U+FFFD or ""): its `bytes` are its raw bytes (what OpenAI's
 * `bytes` is for: joined, they give the character), its text U+FFFD. A control token among the
 * alternatives (no text in the output) is given as its vocabulary text.
 */
function tokenWithBytes(engine: LlamaCppEngine, id: number, text: string): { token: string; bytes: number[] } {
  if (text !== "" && !text.includes("\uFFFD")) return { token: text, bytes: bytesOf(text) };
  // Read after a first token (the pieces' anchor): the token's own piece, independent of any other.
  const piece = engine.pieces([id, id])[1];
  if (Array.isArray(piece)) return { token: "\uFFFD", bytes: piece };
  // A control token (end of turn...) has no text in the output: its vocabulary text, as in /tokenize.
  if (piece !== undefined && piece !== "") return { token: piece, bytes: bytesOf(piece) };
  return { token: text, bytes: bytesOf(text) };
}

/** One entry of chat's `logprobs.content`, or undefined for an end-of-generation token. */
export function chatLogprob(engine: LlamaCppEngine, event: TokenEvent): ChatLogprob | undefined {
  if (event.special) return undefined;
  const { token, bytes } = tokenWithBytes(engine, event.id, tokenText(engine, event));
  return {
    token,
    logprob: event.logprob ?? 0,
    bytes,
    top_logprobs: (event.top ?? []).map((top) => {
      const alternative = tokenWithBytes(engine, top.id, top.text);
      return { token: alternative.token, logprob: top.logprob, bytes: alternative.bytes };
    }),
  };
}

/** Legacy completions logprobs, accumulated token by token; offsets count from `offset`. */
export function createCompletionLogprobs(engine: LlamaCppEngine, offset: number) {
  let position = offset;
  const all: CompletionLogprobs = { tokens: [], token_logprobs: [], top_logprobs: [], text_offset: [] };
  return {
    /** Adds the token; returns its own entry (a stream chunk's logprobs) or undefined (end of generation). */
    push(event: TokenEvent): CompletionLogprobs | undefined {
      if (event.special) return undefined;
      const token = tokenText(engine, event);
      const entry: CompletionLogprobs = {
        tokens: [token],
        token_logprobs: [event.logprob ?? 0],
        top_logprobs: [Object.fromEntries((event.top ?? []).map((top) => [top.text, top.logprob]))],
        text_offset: [position],
      };
      position += token.length;
      all.tokens.push(token);
      all.token_logprobs.push(entry.token_logprobs[0] ?? 0);
      all.top_logprobs.push(entry.top_logprobs[0] ?? null);
      all.text_offset.push(entry.text_offset[0] ?? 0);
      return entry;
    },
    result: (): CompletionLogprobs => all,
  };
}

/**
 * With `echo`, OpenAI's legacy logprobs cover the prompt too: its tokens first (logprob null for
 * the first token of the sequence, which nothing precedes; top_logprobs null), offsets from 0, then
 * the completion's. A leading control token (BOS) with no text is left out, as the echoed text
 * does not have it (the token after it keeps its logprob, conditioned on the BOS).
 */
export function withPromptLogprobs(
  engine: LlamaCppEngine,
  prompt: { ids: readonly number[]; logprobs: ReadonlyArray<number | null>; text: string },
  completion: CompletionLogprobs,
): CompletionLogprobs {
  const [first] = prompt.ids;
  const skip =
    first !== undefined && engine.detokenize([first]) === "" && engine.detokenize([first], true) !== "" ? 1 : 0;
  // A byte of a split character has no text of its own (as in the completion's tokens).
  const texts = engine
    .pieces(prompt.ids)
    .map((piece) => (typeof piece === "string" ? piece : Buffer.from(piece).toString("utf8")));
  // The tokenizer's dummy prefix (a space before the first word) is not in the echoed prompt.
  const joined = texts.slice(skip).join("");
  const shift =
    joined.length > prompt.text.length && joined.endsWith(prompt.text) ? joined.length - prompt.text.length : 0;
  const result: CompletionLogprobs = { tokens: [], token_logprobs: [], top_logprobs: [], text_offset: [] };
  let position = -shift;
  for (const [index, token] of texts.entries()) {
    if (index < skip) continue;
    result.tokens.push(token);
    result.token_logprobs.push(prompt.logprobs[index] ?? null);
    result.top_logprobs.push(null);
    result.text_offset.push(Math.min(Math.max(position, 0), prompt.text.length));
    position += token.length;
  }
  return {
    tokens: [...result.tokens, ...completion.tokens],
    token_logprobs: [...result.token_logprobs, ...completion.token_logprobs],
    top_logprobs: [...result.top_logprobs, ...completion.top_logprobs],
    text_offset: [...result.text_offset, ...completion.text_offset],
  };
}
