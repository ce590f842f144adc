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
  token_logprobs: number[];
  top_logprobs: Array<Record<string, number>>;
  text_offset: number[];
};

function bytesOf(text: string): number[] {
  return Array.from(Buffer.from(text, "utf8"));
}

/** The token's own text (not the stop-trimmed piece the stream carries). */
function tokenText(engine: LlamaCppEngine, event: TokenEvent): string {
  return event.piece ?? engine.detokenize([event.id]);
}

/** One entry of chat's `logprobs.content`, or undefined for an end-of-generation token. */
export function chatLogprob(engine: LlamaCppEngine, event: TokenEvent): ChatLogprob | undefined {
  if (event.special) return undefined;
  const token = tokenText(engine, event);
  return {
    token,
    logprob: event.logprob ?? 0,
    bytes: bytesOf(token),
    top_logprobs: (event.top ?? []).map((top) => ({ token: top.text, logprob: top.logprob, bytes: bytesOf(top.text) })),
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
      all.top_logprobs.push(entry.top_logprobs[0] ?? {});
      all.text_offset.push(entry.text_offset[0] ?? 0);
      return entry;
    },
    result: (): CompletionLogprobs => all,
  };
}
