/**
 * Which sequence a node-llama-cpp batch item belongs to.
 *
 * The batch prioritization strategy receives items without their sequence ids. node-llama-cpp
 * (pinned at 3.21.1) builds each item from an entry of the context's internal `_queuedDecodes`
 * list and shares the entry's `tokens` array with it, so the id is found by that array's identity.
 * If a future version changes this, nothing breaks: items get no id and keep their queue order
 * (the engine's test of ordered batches then fails, which is the signal to revisit this).
 */
import type { BatchItem, LlamaContext } from "node-llama-cpp";

type QueuedDecode = { tokens?: unknown; sequenceId?: unknown };

export function createSequenceResolver(): {
  /** Binds the resolver to the context once it exists (the strategy is given at creation). */
  attach(context: LlamaContext): void;
  sequenceOf(items: readonly BatchItem[]): ReadonlyMap<BatchItem, number>;
} {
  let queue: () => readonly QueuedDecode[] = () => [];
  return {
    attach(context) {
      const internals = context as unknown as { _queuedDecodes?: unknown };
      queue = () => (Array.isArray(internals._queuedDecodes) ? (internals._queuedDecodes as QueuedDecode[]) : []);
    },
    sequenceOf(items) {
      const idByTokens = new Map<unknown, number>();
      for (const queued of queue()) {
        if (typeof queued.sequenceId === "number") idByTokens.set(queued.tokens, queued.sequenceId);
      }
      const ids = new Map<BatchItem, number>();
      for (const item of items) {
        const id = idByTokens.get(item.tokens);
        if (id !== undefined) ids.set(item, id);
      }
      return ids;
    },
  };
}
