import { describe, expect, it } from "vitest";
import { checkTokenLimits } from "./limits.js";

const limits = { maxInputTokens: 100, maxTotalTokens: 150, maxNewTokens: 80 };

describe("checkTokenLimits", () => {
  it("returns the requested max_new_tokens when everything fits", () => {
    expect(checkTokenLimits(limits, 10, 20)).toBe(20);
  });

  it("defaults max_new_tokens to what the total budget leaves, capped by the max", () => {
    expect(checkTokenLimits(limits, 100, undefined)).toBe(50);
    expect(checkTokenLimits(limits, 10, undefined)).toBe(80);
  });

  it("gives the numbers when the input is too long", () => {
    expect(() => checkTokenLimits(limits, 101, 1)).toThrow(/less than 100 tokens\. Given: 101/);
  });

  it("gives the numbers when input + max_new_tokens exceed the total", () => {
    expect(() => checkTokenLimits(limits, 90, 70)).toThrow(
      /must be <= 150\. Given: 90 `inputs` tokens and 70 `max_new_tokens`/,
    );
  });

  it("refuses max_new_tokens above the maximum", () => {
    expect(() => checkTokenLimits(limits, 1, 81)).toThrow(/`max_new_tokens` must be <= 80\. Given: 81/);
  });

  it("refuses an empty input", () => {
    expect(() => checkTokenLimits(limits, 0, 1)).toThrow(/cannot be empty/);
  });
});
