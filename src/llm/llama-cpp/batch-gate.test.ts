import type { BatchItem, EvaluationPriority, Token } from "node-llama-cpp";
import { describe, expect, it } from "vitest";
import { createBatchGate, shareSlots } from "./batch-gate.js";

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
    expect(gate.stats()).toEqual({ batches: 1, emptyRounds: 1, forcedBatches: 0 });
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
