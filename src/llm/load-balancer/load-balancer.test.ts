import { describe, expect, it } from "vitest";
import { AppError } from "../../errors/index.js";
import type { GenerateRequest, GenerateResult, LanguageModel, StreamPart } from "../port.js";
import { createLoadBalancedLanguageModel, type LoadBalancerOptions } from "./load-balancer.js";

type FakeModel = LanguageModel & {
  calls: number;
  healthy: boolean;
  failWith: AppError | undefined;
  /** Resolves pending generations when called. */
  release(): void;
  hold: boolean;
  disposed: boolean;
};

function fakeModel(name: string): FakeModel {
  let waiters: (() => void)[] = [];
  const model: FakeModel = {
    id: name,
    calls: 0,
    healthy: true,
    failWith: undefined,
    hold: false,
    disposed: false,
    release() {
      const pending = waiters;
      waiters = [];
      for (const waiter of pending) waiter();
    },
    async generate(_request: GenerateRequest): Promise<GenerateResult> {
      model.calls++;
      if (model.failWith !== undefined) throw model.failWith;
      if (model.hold) await new Promise<void>((resolve) => waiters.push(resolve));
      return { text: name, finishReason: "stop", usage: { promptTokens: 1, completionTokens: 1 } };
    },
    async *stream(_request: GenerateRequest): AsyncGenerator<StreamPart> {
      model.calls++;
      if (model.failWith !== undefined) throw model.failWith;
      yield { type: "token", text: name };
      if (model.hold) await new Promise<void>((resolve) => waiters.push(resolve));
      if (model.failWith !== undefined) throw model.failWith;
      yield { type: "done", finishReason: "stop", usage: { promptTokens: 1, completionTokens: 1 } };
    },
    async health() {
      return model.healthy;
    },
    async [Symbol.asyncDispose]() {
      model.disposed = true;
    },
  };
  return model;
}

/** A balancer over replicas "a" and "b", without periodic health probes. */
function balancerOver(a: FakeModel, b: FakeModel, options: LoadBalancerOptions = {}) {
  return createLoadBalancedLanguageModel(
    [
      { id: "a", model: a },
      { id: "b", model: b },
    ],
    { healthIntervalMs: 0, ...options },
  );
}

const unavailable = () => new AppError("upstream_unavailable", "connection refused", { retryable: true });

describe("load-balanced LanguageModel", () => {
  it("sends each request to the replica with the fewest outstanding requests", async () => {
    const a = fakeModel("a");
    const b = fakeModel("b");
    const balancer = balancerOver(a, b);
    a.hold = true;
    const first = balancer.generate({ prompt: "1" });
    const second = balancer.generate({ prompt: "2" });
    // One is busy on each replica; a third and fourth go one to each again.
    const third = balancer.generate({ prompt: "3" });
    b.hold = true;
    const fourth = balancer.generate({ prompt: "4" });
    await new Promise((resolve) => setTimeout(resolve, 10));
    const outstanding = balancer.stats().map((stats) => stats.outstanding);
    expect(outstanding.reduce((sum, value) => sum + value, 0)).toBeGreaterThanOrEqual(2);
    a.release();
    b.release();
    const results = await Promise.all([first, second, third, fourth]);
    expect(results.map((result) => result.text).sort()).toEqual(["a", "a", "b", "b"]);
    expect(balancer.stats().map((stats) => stats.requests)).toEqual([2, 2]);
    expect(balancer.stats().every((stats) => stats.outstanding === 0)).toBe(true);
  });

  it("prefers an idle replica over a busy one", async () => {
    const a = fakeModel("a");
    const b = fakeModel("b");
    const balancer = balancerOver(a, b);
    a.hold = true;
    b.hold = true;
    const pending = [
      balancer.generate({ prompt: "1" }),
      balancer.generate({ prompt: "2" }),
      balancer.generate({ prompt: "3" }),
    ];
    expect(
      balancer
        .stats()
        .map((stats) => stats.outstanding)
        .sort(),
    ).toEqual([1, 2]);
    b.hold = false;
    b.release();
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(balancer.stats()[1]?.outstanding).toBe(0);
    expect(balancer.stats()[0]?.outstanding).toBeGreaterThan(0);
    expect((await balancer.generate({ prompt: "4" })).text).toBe("b");
    a.release();
    await Promise.all(pending);
  });

  it("fails over to another replica on a connection error and marks the failed one down", async () => {
    const a = fakeModel("a");
    const b = fakeModel("b");
    a.failWith = unavailable();
    const changes: string[] = [];
    const balancer = balancerOver(a, b, {
      onReplicaStateChange: (event) => changes.push(`${event.replica}:${event.healthy ? "up" : "down"}`),
    });
    for (let index = 0; index < 6; index++) expect((await balancer.generate({ prompt: "x" })).text).toBe("b");
    expect(a.calls).toBe(1);
    expect(balancer.stats()[0]).toMatchObject({ id: "a", healthy: false, failures: 1 });
    expect(changes).toEqual(["a:down"]);
  });

  it("does not fail over on non-retryable errors", async () => {
    const a = fakeModel("a");
    const b = fakeModel("b");
    a.failWith = new AppError("validation_error", "too long", { retryable: false });
    b.failWith = a.failWith;
    const balancer = balancerOver(a, b);
    await expect(balancer.generate({ prompt: "x" })).rejects.toMatchObject({ code: "validation_error" });
    expect(a.calls + b.calls).toBe(1);
  });

  it("skips replicas failing health checks and brings them back when healthy", async () => {
    const a = fakeModel("a");
    const b = fakeModel("b");
    const balancer = balancerOver(a, b, {
      unhealthyAfterFailures: 2,
    });
    a.healthy = false;
    await balancer.checkHealth();
    expect(balancer.stats()[0]?.healthy).toBe(true);
    await balancer.checkHealth();
    expect(balancer.stats()[0]).toMatchObject({ healthy: false, consecutiveProbeFailures: 2 });
    for (let index = 0; index < 4; index++) await balancer.generate({ prompt: "x" });
    expect(a.calls).toBe(0);
    a.healthy = true;
    expect(await balancer.health()).toBe(true);
    expect(balancer.stats()[0]?.healthy).toBe(true);
    for (let index = 0; index < 4; index++) await balancer.generate({ prompt: "x" });
    expect(a.calls).toBe(2);
  });

  it("runs probes on a timer and stops them on dispose, disposing the replicas", async () => {
    const a = fakeModel("a");
    let probes = 0;
    a.health = async () => {
      probes++;
      return true;
    };
    const balancer = createLoadBalancedLanguageModel([{ id: "a", model: a }], { healthIntervalMs: 10 });
    await new Promise((resolve) => setTimeout(resolve, 80));
    expect(probes).toBeGreaterThan(1);
    await balancer[Symbol.asyncDispose]();
    const afterDispose = probes;
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(probes).toBe(afterDispose);
    expect(a.disposed).toBe(true);
    await expect(balancer.generate({ prompt: "x" })).rejects.toMatchObject({ code: "shutting_down" });
  });

  it("tries replicas marked down as a last resort, so recovery needs no probe", async () => {
    const a = fakeModel("a");
    const balancer = createLoadBalancedLanguageModel([{ id: "a", model: a }], { healthIntervalMs: 0 });
    a.failWith = unavailable();
    await expect(balancer.generate({ prompt: "x" })).rejects.toMatchObject({ code: "upstream_unavailable" });
    expect(balancer.stats()[0]?.healthy).toBe(false);
    a.failWith = undefined;
    expect((await balancer.generate({ prompt: "x" })).text).toBe("a");
    expect(balancer.stats()[0]?.healthy).toBe(true);
  });

  it("retries a stream on another replica only when nothing was streamed; mid-stream failures name the replica", async () => {
    const a = fakeModel("a");
    const b = fakeModel("b");
    a.failWith = unavailable();
    const balancer = balancerOver(a, b);
    const parts: StreamPart[] = [];
    for await (const part of balancer.stream({ prompt: "x" })) parts.push(part);
    expect(parts.map((part) => part.type)).toEqual(["token", "done"]);
    expect(parts[0]).toMatchObject({ text: "b" });

    b.hold = true;
    const received: string[] = [];
    const failure = (async () => {
      for await (const part of balancer.stream({ prompt: "y" })) if (part.type === "token") received.push(part.text);
    })().catch((error: unknown) => error);
    await new Promise((resolve) => setTimeout(resolve, 10));
    b.failWith = unavailable();
    b.release();
    const error = (await failure) as AppError;
    expect(received).toEqual(["b"]);
    expect(error).toMatchObject({ code: "upstream_unavailable", details: { replica: "b", partsStreamed: 1 } });
    expect(error.message).toContain("LLM replica b failed mid-stream");
  });

  it("a caller's cancellation is passed through, neither retried elsewhere nor counted against the replica", async () => {
    const a = fakeModel("a");
    const b = fakeModel("b");
    a.failWith = new AppError("aborted", "cancelled", { retryable: false });
    b.failWith = a.failWith;
    const balancer = balancerOver(a, b);
    await expect(balancer.generate({ prompt: "x" })).rejects.toMatchObject({ code: "aborted" });
    expect(a.calls + b.calls).toBe(1);
    expect(balancer.stats().every((stats) => stats.failures === 0 && stats.healthy)).toBe(true);
  });

  it("prefers reporting overload when every replica failed", async () => {
    const a = fakeModel("a");
    const b = fakeModel("b");
    a.failWith = new AppError("overloaded", "busy", { retryable: true });
    b.failWith = unavailable();
    const balancer = balancerOver(a, b);
    await expect(balancer.generate({ prompt: "x" })).rejects.toMatchObject({
      code: "overloaded",
      details: { replicasTried: 2 },
    });
  });

  it("rejects bad configuration", () => {
    expect(() => createLoadBalancedLanguageModel([])).toThrow(/at least one replica/);
    const a = fakeModel("a");
    expect(() =>
      createLoadBalancedLanguageModel([
        { id: "a", model: a },
        { id: "a", model: a },
      ]),
    ).toThrow(/unique/);
    expect(() => createLoadBalancedLanguageModel([{ id: "a", model: a }], { unhealthyAfterFailures: 0 })).toThrow(
      /unhealthyAfterFailures/,
    );
  });
});
