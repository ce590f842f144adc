/**
 * The guard's two halves alone: a failed native sampling resolves to node-llama-cpp's "no token"
 * result in the shape the caller asked for, and the evaluator's error becomes the request's
 * AppError. (Against real llama.cpp: node-llama-cpp-grammar-ban.test.ts.)
 */
import type { LlamaContext } from "node-llama-cpp";
import { describe, expect, it } from "vitest";
import { AppError } from "../../errors/index.js";
import { GRAMMAR_DEAD_END_MESSAGE, guardSampling, samplingFailure } from "./sampling-guard.js";

function fakeContext(sampleToken: (...args: unknown[]) => Promise<unknown>): LlamaContext {
  class Addon {}
  Object.defineProperty(Addon.prototype, "sampleToken", { value: sampleToken, writable: false });
  return { _ctx: new Addon() } as unknown as LlamaContext;
}

describe("guardSampling", () => {
  it("turns a rejected sampling into -1 ([-1, …] when metadata was asked) and remembers why", async () => {
    const context = fakeContext(() => Promise.reject(new Error("Failed to accept token in sampler: grammar")));
    const guard = guardSampling(context);
    const addon = (context as unknown as { _ctx: { sampleToken: (...args: unknown[]) => Promise<unknown> } })._ctx;
    expect(guard?.lastFailure()).toBeUndefined();
    await expect(addon.sampleToken(0, {})).resolves.toBe(-1);
    await expect(addon.sampleToken(0, {}, true, true)).resolves.toEqual([-1, undefined, undefined]);
    expect(guard?.lastFailure()).toBe("Failed to accept token in sampler: grammar");
  });

  it("passes successful samplings through, and is not installed on a context without those internals", async () => {
    const context = fakeContext(async (index) => 100 + Number(index));
    guardSampling(context);
    const addon = (context as unknown as { _ctx: { sampleToken: (...args: unknown[]) => Promise<unknown> } })._ctx;
    await expect(addon.sampleToken(3, {})).resolves.toBe(103);
    expect(guardSampling({} as LlamaContext)).toBeUndefined();
  });
});

describe("samplingFailure", () => {
  const noToken = new Error("Failed to sample next token");

  it("a grammar dead end on a constrained request is 422 with the native engine's message", () => {
    const error = samplingFailure(noToken, { constrained: true, cause: "Unexpected empty grammar stack" });
    expect(error).toBeInstanceOf(AppError);
    expect(error).toMatchObject({ code: "validation_error", message: GRAMMAR_DEAD_END_MESSAGE });
  });

  it("any other sampling failure is the engine's 500; other errors pass unchanged", () => {
    expect(samplingFailure(noToken, { constrained: false, cause: "grammar" })).toMatchObject({
      code: "internal_error",
      message: "llama.cpp could not sample the next token: grammar",
    });
    expect(samplingFailure(noToken, { constrained: true, cause: undefined })).toMatchObject({ code: "internal_error" });
    const other = new Error("Object is disposed");
    expect(samplingFailure(other, { constrained: true, cause: "grammar" })).toBe(other);
  });
});
