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
