/**
 * Turning generated token ids into text, one token at a time:
 * - the incremental detokenizer holds tokens back while they end in an incomplete UTF-8
 *   character (byte-fallback tokens), so no replacement character is ever emitted mid-character;
 * - the stop matcher finds stop sequences across token boundaries, holds back text that may be
 *   the start of one, and never emits the stop text itself.
 */

export type Detokenize = (tokens: readonly number[], lastTokens: readonly number[]) => string;

export type IncrementalDetokenizer = {
  /** Text that became complete with this token ("" while a character is incomplete). */
  push(token: number): string;
  /** Whatever is still held back, at the end of generation. */
  flush(): string;
};

const REPLACEMENT_CHARACTER = "\uFFFD";
/** A UTF-8 character is at most 4 bytes, so at most 4 byte tokens are ever held back. */
const MAX_HELD_TOKENS = 4;
const CONTEXT_TOKENS = 8;

/**
 * `precedingTokens`: what comes before the first token (the prompt's last tokens), so that the
 * first token reads as a continuation. Without it, a SentencePiece first token loses its leading
 * space ("▁world" after "Hello" would give "world", not " world").
 */
export function createIncrementalDetokenizer(
  detokenize: Detokenize,
  precedingTokens: readonly number[] = [],
): IncrementalDetokenizer {
  let pending: number[] = [];
  let context: number[] = precedingTokens.slice(-CONTEXT_TOKENS);
  function commit(text: string): string {
    context = context.concat(pending).slice(-CONTEXT_TOKENS);
    pending = [];
    return text;
  }
  return {
    push(token) {
      pending.push(token);
      const text = detokenize(pending, context);
      if (pending.length < MAX_HELD_TOKENS && text.endsWith(REPLACEMENT_CHARACTER)) return "";
      return commit(text);
    },
    flush() {
      if (pending.length === 0) return "";
      return commit(detokenize(pending, context));
    },
  };
}

export type StopMatcher = {
  /** Adds generated text; returns the text safe to emit and whether a stop sequence matched. */
  push(text: string): { text: string; stopped: boolean };
  /** Text held back as a possible stop prefix, emitted when generation ends without a stop. */
  flush(): string;
};

export function createStopMatcher(stops: readonly string[]): StopMatcher {
  const sequences = stops.filter((stop) => stop.length > 0);
  let buffer = "";
  return {
    push(text) {
      if (sequences.length === 0) return { text, stopped: false };
      buffer += text;
      let stopAt = -1;
      for (const stop of sequences) {
        const index = buffer.indexOf(stop);
        if (index >= 0 && (stopAt < 0 || index < stopAt)) stopAt = index;
      }
      if (stopAt >= 0) {
        const emitted = buffer.slice(0, stopAt);
        buffer = "";
        return { text: emitted, stopped: true };
      }
      const hold = longestStopPrefixSuffix(buffer, sequences);
      const emitted = buffer.slice(0, buffer.length - hold);
      buffer = buffer.slice(buffer.length - hold);
      return { text: emitted, stopped: false };
    },
    flush() {
      const rest = buffer;
      buffer = "";
      return rest;
    },
  };
}

/** Length of the longest suffix of `text` that is a proper prefix of one of `stops`. */
function longestStopPrefixSuffix(text: string, stops: readonly string[]): number {
  let best = 0;
  for (const stop of stops) {
    const limit = Math.min(stop.length - 1, text.length);
    for (let length = limit; length > best; length -= 1) {
      if (text.endsWith(stop.slice(0, length))) {
        best = length;
        break;
      }
    }
  }
  return best;
}
