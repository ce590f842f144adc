/**
 * Conversation history in the pipeline: which earlier turns fit in the generation prompt (the
 * most recent ones, within a token budget) and which author carries over from earlier user turns.
 */
import type { Author } from "../../domain/index.js";
import type { HistoryTurn } from "../types.js";
import type { TokenCounter } from "./context.js";
import { matchAuthor } from "./self-query.js";

/** Tokens a turn costs beyond its text (role markers of the chat template, or the "User: " prefix). */
export const TURN_OVERHEAD_TOKENS = 8;

export type FittedHistory = { turns: HistoryTurn[]; tokens: number };

/**
 * The most recent turns whose tokens fit in `budget`, oldest first; older turns are dropped first,
 * and the first turn that does not fit ends the selection (no gaps in the conversation).
 */
export function fitHistory(history: readonly HistoryTurn[], budget: number, countTokens: TokenCounter): FittedHistory {
  const kept: HistoryTurn[] = [];
  let tokens = 0;
  for (let index = history.length - 1; index >= 0; index -= 1) {
    const turn = history[index];
    if (turn === undefined) continue;
    const cost = countTokens(turn.content) + TURN_OVERHEAD_TOKENS;
    if (tokens + cost > budget) break;
    kept.push(turn);
    tokens += cost;
  }
  return { turns: kept.reverse(), tokens };
}

/**
 * The author named in the most recent earlier user turn that names one (deterministic name
 * matching, as self-query's "match" mode), for a current question that names nobody.
 */
export function carriedOverAuthor(history: readonly HistoryTurn[], authors: readonly Author[]): Author | undefined {
  for (let index = history.length - 1; index >= 0; index -= 1) {
    const turn = history[index];
    if (turn?.role !== "user") continue;
    const author = matchAuthor(turn.content, authors);
    if (author !== undefined) return author;
  }
  return undefined;
}
