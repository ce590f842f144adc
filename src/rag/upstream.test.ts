import { describe, expect, it } from "vitest";
import { AppError } from "../errors/index.js";
import { callUpstream } from "./upstream.js";

describe("callUpstream", () => {
  it("times out a call that ignores its signal, and aborts that signal", async () => {
    let seen: AbortSignal | undefined;
    const call = callUpstream("the store", 30, undefined, (signal) => {
      seen = signal;
      return new Promise(() => {});
    });
    await expect(call).rejects.toMatchObject({ code: "timeout", message: "the store did not answer within 30 ms" });
    expect(seen?.aborted).toBe(true);
  });

  it("reports the caller's abort as aborted, not as a timeout", async () => {
    const controller = new AbortController();
    const call = callUpstream("the LLM", 10_000, controller.signal, () => new Promise(() => {}));
    controller.abort();
    await expect(call).rejects.toMatchObject({ code: "aborted" });
  });

  it("maps refused connections to upstream_unavailable and other failures to upstream_error, keeping AppErrors", async () => {
    const refused = Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" });
    await expect(
      callUpstream("the LLM", 1000, undefined, () => Promise.reject(new TypeError("fetch failed", { cause: refused }))),
    ).rejects.toMatchObject({
      code: "upstream_unavailable",
    });
    await expect(
      callUpstream("the LLM", 1000, undefined, () => Promise.reject(new Error("boom"))),
    ).rejects.toMatchObject({
      code: "upstream_error",
      message: "the LLM failed",
    });
    const overloaded = new AppError("overloaded", "busy");
    await expect(callUpstream("the LLM", 1000, undefined, () => Promise.reject(overloaded))).rejects.toBe(overloaded);
    expect(await callUpstream("the LLM", 1000, undefined, async () => 42)).toBe(42);
  });
});
