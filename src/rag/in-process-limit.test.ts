import { describe, expect, it } from "vitest";
import { type InProcessEngineLimits, inProcessPromptLimit } from "./in-process-limit.js";

describe("inProcessPromptLimit", () => {
  it("follows the engine's limits when they change (a registry model reloaded on POST /admin/reload)", () => {
    const engine: InProcessEngineLimits = {
      limits: { maxInputTokens: 511, maxTotalTokens: 512 },
      countTokens: (input) => ("prompt" in input ? input.prompt.length : 0),
    };
    const { promptLimit } = inProcessPromptLimit(engine);
    expect([promptLimit.maxInputTokens, promptLimit.maxTotalTokens]).toEqual([511, 512]);
    engine.limits = { maxInputTokens: 2047, maxTotalTokens: 2048 };
    expect([promptLimit.maxInputTokens, promptLimit.maxTotalTokens]).toEqual([2047, 2048]);
  });
});

describe("inProcessPromptLimit's cached token counts", () => {
  it("are dropped when the engine behind the limits changes (a reload whose tokenizer differs)", () => {
    let serving = { tokensPerChar: 1 };
    const facade: InProcessEngineLimits = {
      limits: { maxInputTokens: 511, maxTotalTokens: 512 },
      countTokens: (input) => ("prompt" in input ? input.prompt.length * serving.tokensPerChar : 0),
      get identity() {
        return serving;
      },
    };
    const { countTokens } = inProcessPromptLimit(facade);
    expect(countTokens("twelve chars")).toBe(12);
    serving = { tokensPerChar: 2 };
    expect(countTokens("twelve chars")).toBe(24);
    expect(countTokens("twelve chars")).toBe(24);
  });

  it("are remembered while the engine stays the same", () => {
    let calls = 0;
    const engine: InProcessEngineLimits = {
      limits: { maxInputTokens: 511, maxTotalTokens: 512 },
      countTokens: (input) => {
        calls++;
        return "prompt" in input ? input.prompt.length : 0;
      },
    };
    const { countTokens } = inProcessPromptLimit(engine);
    expect([countTokens("same text"), countTokens("same text")]).toEqual([9, 9]);
    expect(calls).toBe(1);
  });
});
