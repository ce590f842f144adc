import { describe, expect, it } from "vitest";
import { AppError } from "../../errors/index.js";
import { createAdmission } from "./admission.js";

describe("createAdmission", () => {
  it("hands out free slots, then queues, then refuses with overloaded", async () => {
    const admission = createAdmission(["a", "b"], { slots: 2, maxQueue: 1, maxConcurrentRequests: 10 });
    expect(await admission.acquire()).toBe("a");
    expect(await admission.acquire()).toBe("b");
    const waiting = admission.acquire();
    expect(admission.queued).toBe(1);
    await expect(admission.acquire()).rejects.toMatchObject({ code: "overloaded", message: "Model is overloaded" });
    admission.release("a");
    expect(await waiting).toBe("a");
    expect(admission.inUse).toBe(2);
  });

  it("takes the free slot the score rates highest, the longest-free one on ties", async () => {
    const admission = createAdmission(["a", "b", "c"], { slots: 3, maxQueue: 0, maxConcurrentRequests: 3 });
    const scores: Record<string, number> = { a: 1, b: 5, c: 5 };
    expect(await admission.acquire(undefined, (slot) => scores[slot] ?? 0)).toBe("b");
    expect(await admission.acquire(undefined, () => 0)).toBe("a");
    admission.release("b");
    // c has been free longer than b.
    expect(await admission.acquire(undefined, (slot) => (slot === "a" ? 9 : 5))).toBe("c");
  });

  it("counts running plus waiting requests against maxConcurrentRequests", async () => {
    const admission = createAdmission(["a"], { slots: 1, maxQueue: 10, maxConcurrentRequests: 2 });
    await admission.acquire();
    void admission.acquire();
    await expect(admission.acquire()).rejects.toMatchObject({ code: "overloaded" });
  });

  it("removes an aborted waiter from the queue", async () => {
    const admission = createAdmission(["a"], { slots: 1, maxQueue: 2, maxConcurrentRequests: 10 });
    await admission.acquire();
    const controller = new AbortController();
    const waiting = admission.acquire(controller.signal);
    controller.abort();
    await expect(waiting).rejects.toMatchObject({ code: "aborted" });
    expect(admission.queued).toBe(0);
    admission.release("a");
    expect(admission.free).toBe(1);
  });

  it("refuses everything once closed, waiters included", async () => {
    const admission = createAdmission(["a"], { slots: 1, maxQueue: 2, maxConcurrentRequests: 10 });
    await admission.acquire();
    const waiting = admission.acquire();
    admission.close(new AppError("shutting_down", "bye"));
    await expect(waiting).rejects.toMatchObject({ code: "shutting_down" });
    await expect(admission.acquire()).rejects.toMatchObject({ code: "shutting_down" });
  });
});
