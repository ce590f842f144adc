/**
 * Keeps every running generation in the same llama_decode batch.
 *
 * node-llama-cpp decodes one batch, then samples each sequence's next token on its own libuv
 * worker, hands the tokens back, and, still holding the context, immediately decodes whatever
 * sequences have queued their next token by then. The sequence whose token came back last is
 * still a dozen microtasks away from queueing (generator resumptions), so it always missed the
 * batch and went into the next one: measured with 4 busy sequences, 3 tokens per decode and ~35%
 * more decode calls than needed (see docs/benchmarks.md).
 *
 * The gate counts the generations that keep asking for tokens (from their first request for one
 * until they know they will not ask again: `generationStarted`/`generationEnded`; the engine asks
 * for the next token as soon as one arrives). Its prioritization strategy runs when the previous
 * batch and its sampling are complete, so each of these generations has queued its next token or
 * is a few microtasks from doing so: it returns an empty batch while fewer items are queued, which makes node-llama-cpp loop again after a few microtasks,
 * by which time the late sequence has queued. A bounded number of such rounds (`maxEmptyRounds`)
 * guarantees progress if a count is ever off. Items are then allotted batch slots like
 * node-llama-cpp's "maximumParallelism": an equal share each, the rest to those that need more.
 *
 * Items are put in ascending sequence-id order. llama.cpp keeps one KV stream per sequence (the
 * context is not "unified") and then splits a batch into micro-batches whose sequence ids run
 * consecutively in batch order (`split_equal(…, sequential)` in llama-batch.cpp): tokens of
 * sequences 1, 0, 2, 3 in that order were decoded as two passes over the weights (1-2-3, then 0),
 * each about as costly as one pass for all four. node-llama-cpp hands the strategy its queue in
 * arrival order, which varies, so the engine gives the gate a `sequenceOf` that reads the
 * sequence id of an item (see engine.ts).
 */
import type { BatchItem, PrioritizedBatchItem } from "node-llama-cpp";

export type BatchGate = {
  /** node-llama-cpp's `batching.itemPrioritizationStrategy`. */
  prioritize(options: { items: readonly BatchItem[]; size: number }): PrioritizedBatchItem[];
  /** A generation asked for its first token; it will queue one decode per token from now on. */
  generationStarted(): void;
  /** The generation will ask for no more tokens. */
  generationEnded(): void;
  stats(): BatchGateStats;
};

export type BatchGateStats = {
  /** Batches handed to llama_decode, and the tokens in them (tokens ÷ batches = mean batch size). */
  batches: number;
  tokens: number;
  /** Rounds held back for a late generation, and batches dispatched anyway after too many. */
  emptyRounds: number;
  forcedBatches: number;
  /** Items whose sequence id could not be resolved (left in queue order); 0 when ordering works. */
  itemsWithoutSequence: number;
};

export type BatchGateOptions = {
  maxEmptyRounds?: number;
  /**
   * The sequence id of a batch item, if known; called once per item per batch. Items are decoded
   * in ascending sequence-id order (unknown ids last, in their queue order).
   */
  sequenceOf?: (items: readonly BatchItem[]) => ReadonlyMap<BatchItem, number>;
};

export function createBatchGate(options: BatchGateOptions = {}): BatchGate {
  const maxEmptyRounds = options.maxEmptyRounds ?? 32;
  const sequenceOf = options.sequenceOf;
  let active = 0;
  let rounds = 0;
  let batches = 0;
  let emptyRounds = 0;
  let forcedBatches = 0;
  let tokens = 0;
  let itemsWithoutSequence = 0;

  return {
    prioritize({ items, size }) {
      if (items.length < active && rounds < maxEmptyRounds) {
        rounds += 1;
        emptyRounds += 1;
        return [];
      }
      if (items.length < active) forcedBatches += 1;
      rounds = 0;
      batches += 1;
      let ordered: readonly BatchItem[] = items;
      if (sequenceOf !== undefined) {
        const ids = sequenceOf(items);
        itemsWithoutSequence += items.length - ids.size;
        ordered = bySequence(items, ids);
      }
      const shares = shareSlots(ordered, size);
      for (const share of shares) tokens += share.processAmount;
      return shares;
    },
    generationStarted() {
      active += 1;
    },
    generationEnded() {
      active = Math.max(0, active - 1);
    },
    stats() {
      return { batches, tokens, emptyRounds, forcedBatches, itemsWithoutSequence };
    },
  };
}

/** The items in ascending sequence-id order; those without an id keep their order, after the rest. */
export function bySequence(items: readonly BatchItem[], ids: ReadonlyMap<BatchItem, number>): BatchItem[] {
  const unknown = Number.POSITIVE_INFINITY;
  return items
    .map((item, index) => ({ item, index, id: ids.get(item) ?? unknown }))
    .sort((a, b) => a.id - b.id || a.index - b.index)
    .map((entry) => entry.item);
}

/** An equal share of the batch for every item, then what is left to the items that need more. */
export function shareSlots(items: readonly BatchItem[], size: number): PrioritizedBatchItem[] {
  const result: PrioritizedBatchItem[] = [];
  let left = size;
  const share = Math.max(1, Math.floor(size / Math.max(1, items.length)));
  for (const item of items) {
    if (left === 0) break;
    const processAmount = Math.min(item.tokens.length, share, left);
    result.push({ item, processAmount });
    left -= processAmount;
  }
  const byPriority = [...result].sort((a, b) => b.item.evaluationPriority - a.item.evaluationPriority);
  for (const entry of byPriority) {
    if (left === 0) break;
    const more = Math.min(entry.item.tokens.length - entry.processAmount, left);
    entry.processAmount += more;
    left -= more;
  }
  return result;
}
