import { describe, expect, it } from "vitest";
import { acquireLlama, startLlama } from "./shared-llama.js";

describe("the shared llama.cpp runtime", () => {
  it("is one runtime while it has users, disposed with the last, and started anew after", async () => {
    startLlama();
    const first = await acquireLlama();
    const second = await acquireLlama({ maxThreads: first.llama.maxThreads + 1 });
    expect(second.llama).toBe(first.llama);
    expect(first.llama.maxThreads).toBeGreaterThanOrEqual(2);

    await first.release();
    await first.release(); // a second release of the same use changes nothing
    expect(second.llama.disposed).toBe(false);
    await second.release();
    expect(second.llama.disposed).toBe(true);

    const third = await acquireLlama();
    expect(third.llama).not.toBe(first.llama);
    expect(third.llama.disposed).toBe(false);
    await third.release();
  });

  it("startLlama() resolves once the runtime is on its way (its binary test started, or loaded), and the runtime follows", async () => {
    await startLlama();
    const use = await acquireLlama();
    expect(use.llama.disposed).toBe(false);
    await use.release();
    expect(use.llama.disposed).toBe(true);
  });

  it("startLlama() called again while the same runtime loads gives the same answer and starts nothing more", async () => {
    const first = startLlama();
    const second = startLlama();
    expect(second).toBe(first);
    await first;
    const use = await acquireLlama();
    await use.release();
    // Released with its last user: the next start is a new load.
    expect(startLlama()).not.toBe(first);
    const next = await acquireLlama();
    await next.release();
  });
});
