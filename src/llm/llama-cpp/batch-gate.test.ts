import type { BatchItem, EvaluationPriority, Token } from "node-llama-cpp";
import { describe, expect, it } from "vitest";
import { bySequence, createBatchGate, shareSlots } from "./batch-gate.js";

function item(tokens: number, evaluationPriority: EvaluationPriority = 5): BatchItem {
  return { tokens: Array.from({ length: tokens }, (_, index) => index as Token), logits: [], evaluationPriority };
}

describe("batch gate", () => {
  it("holds the batch while a running generation has not queued its token yet", () => {
    const gate = createBatchGate();
    gate.generationStarted();
    gate.generationStarted();
    const first = item(1);
    expect(gate.prioritize({ items: [first], size: 512 })).toEqual([]);
    const second = item(1);
    expect(gate.prioritize({ items: [first, second], size: 512 })).toEqual([
      { item: first, processAmount: 1 },
      { item: second, processAmount: 1 },
    ]);
    expect(gate.stats()).toEqual({ batches: 1, tokens: 2, emptyRounds: 1, forcedBatches: 0, itemsWithoutSequence: 0 });
  });

  it("dispatches what is queued once a generation ends or after the bounded number of empty rounds", () => {
    const gate = createBatchGate({ maxEmptyRounds: 2 });
    gate.generationStarted();
    gate.generationStarted();
    const only = item(1);
    expect(gate.prioritize({ items: [only], size: 512 })).toEqual([]);
    expect(gate.prioritize({ items: [only], size: 512 })).toEqual([]);
    expect(gate.prioritize({ items: [only], size: 512 })).toHaveLength(1);
    expect(gate.stats().forcedBatches).toBe(1);
    gate.generationEnded();
    expect(gate.prioritize({ items: [only], size: 512 })).toHaveLength(1);
  });
});

describe("batch order", () => {
  it("puts items in ascending sequence-id order, unknown ids last in queue order", () => {
    const [a, b, c, d, e] = [item(1), item(1), item(1), item(1), item(1)];
    const ids = new Map([
      [a, 2],
      [b, 0],
      [d, 1],
    ]);
    expect(bySequence([a, b, c, d, e], ids)).toEqual([b, d, a, c, e]);
  });

  it("dispatches the batch in sequence order and counts items it could not place", () => {
    const [late, early, unknown] = [item(1), item(1), item(1)];
    const gate = createBatchGate({
      sequenceOf: () =>
        new Map([
          [late, 3],
          [early, 1],
        ]),
    });
    const batch = gate.prioritize({ items: [late, unknown, early], size: 512 });
    expect(batch.map((share) => share.item)).toEqual([early, late, unknown]);
    expect(gate.stats()).toMatchObject({ batches: 1, tokens: 3, itemsWithoutSequence: 1 });
  });
});

describe("shareSlots", () => {
  it("gives every item a share and the rest of the batch to those that need more", () => {
    const prompt = item(600, 5);
    const token = item(1, 5);
    const shares = shareSlots([prompt, token], 512);
    expect(shares.map((share) => share.processAmount)).toEqual([511, 1]);
  });

  it("never exceeds the batch size", () => {
    const items = Array.from({ length: 10 }, () => item(100));
    const total = shareSlots(items, 64).reduce((sum, share) => sum + share.processAmount, 0);
    expect(total).toBeLessThanOrEqual(64);
  });
});
