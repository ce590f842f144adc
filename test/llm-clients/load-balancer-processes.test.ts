/**
 * The load-balanced LLM tier against TWO REAL LLM service processes (`llm-twin serve-llm` on a
 * generated tiny GGUF) on loopback; one is killed (SIGKILL) mid-run.
 *
 * Defined behaviour, asserted here:
 * - every non-streaming request succeeds: one in flight on the killed replica fails with a
 *   connection error before any token reached the caller, so it is retried on the survivor;
 * - a stream that had already produced tokens from the killed replica fails with code
 *   upstream_unavailable and "LLM replica <id> failed mid-stream" (it is never replayed, the caller
 *   already has part of the text); streams that had not started yet are retried on the survivor;
 * - the killed replica is marked down and receives no more traffic;
 * - once a process serves on that address again, a health probe brings it back into rotation.
 * Each service queues up to 14 requests, so the survivor alone can take all eight clients (with
 * the default queue it would answer 429, which the balancer reports as overloaded).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AppError } from "../../src/errors/index.js";
import { tinyModelPath } from "../../src/gguf/index.js";
import { createTgiLanguageModel } from "../../src/llm/clients/index.js";
import { createLoadBalancedLanguageModel, type LoadBalancedLanguageModel } from "../../src/llm/load-balancer/index.js";
import { type CliProcess, spawnServeLlm, stop, waitForStatus } from "../../src/testing/cli-process.js";
import { freePort } from "../../src/testing/free-port.js";

const children: CliProcess[] = [];
let modelPath: string;

async function startService(port: number): Promise<{ url: string; process: CliProcess }> {
  const service = spawnServeLlm({ model: modelPath, port, args: ["--max-queue", "14", "--log-level", "warn"] });
  children.push(service);
  const url = `http://127.0.0.1:${port}`;
  await waitForStatus(`${url}/health`, 200, service);
  return { url, process: service };
}

const kill = (service: CliProcess): Promise<void> => stop(service, "SIGKILL");

let first: { url: string; process: CliProcess; port: number };
let second: { url: string; process: CliProcess; port: number };
let balancer: LoadBalancedLanguageModel;

beforeAll(async () => {
  modelPath = await tinyModelPath("chat");
  const [firstPort, secondPort] = [await freePort(), await freePort()];
  const [a, b] = await Promise.all([startService(firstPort), startService(secondPort)]);
  first = { ...a, port: firstPort };
  second = { ...b, port: secondPort };
  const replica = (id: string, url: string) => ({
    id,
    model: createTgiLanguageModel({ url, retries: 0, timeoutMs: 30_000 }),
  });
  balancer = createLoadBalancedLanguageModel([replica("first", first.url), replica("second", second.url)], {
    healthIntervalMs: 250,
    healthTimeoutMs: 1_000,
    unhealthyAfterFailures: 1,
  });
}, 180_000);

afterAll(async () => {
  await balancer?.[Symbol.asyncDispose]();
  await Promise.all(children.map(kill));
});

type Outcome = { kind: "generate" | "stream"; ok: boolean; tokens: number; error?: AppError };

async function runOne(kind: "generate" | "stream", index: number): Promise<Outcome> {
  const request = { prompt: `request ${index}`, maxNewTokens: 64, temperature: 0.7, seed: index };
  try {
    if (kind === "generate") {
      await balancer.generate(request);
      return { kind, ok: true, tokens: 0 };
    }
    let tokens = 0;
    let done = false;
    for await (const part of balancer.stream(request)) {
      if (part.type === "token") tokens++;
      else done = true;
    }
    return { kind, ok: done, tokens };
  } catch (error) {
    if (!(error instanceof AppError)) throw error;
    return { kind, ok: false, tokens: 0, error };
  }
}

describe("load-balanced LLM tier over two real serve-llm processes", () => {
  it("spreads requests over both, survives one being killed mid-run, then routes everything to the survivor", async () => {
    // Warm-up: both replicas take traffic.
    await Promise.all(Array.from({ length: 8 }, (_, index) => runOne(index % 2 === 0 ? "generate" : "stream", index)));
    const warm = balancer.stats();
    expect(warm.every((replica) => replica.requests > 0)).toBe(true);

    // Eight concurrent clients; the first replica is killed while requests are in flight on it.
    const outcomes: Outcome[] = [];
    let completed = 0;
    let killed: Promise<void> | undefined;
    const clients = Array.from({ length: 8 }, async (_, client) => {
      for (let round = 0; round < 6; round++) {
        const kind = (client + round) % 2 === 0 ? "generate" : "stream";
        outcomes.push(await runOne(kind, 100 + client * 10 + round));
        completed++;
        if (completed === 12 && killed === undefined) killed = kill(first.process);
      }
    });
    await Promise.all(clients);
    await killed;

    const generates = outcomes.filter((outcome) => outcome.kind === "generate");
    expect(generates.every((outcome) => outcome.ok)).toBe(true);
    const failures = outcomes.filter((outcome) => !outcome.ok);
    for (const failure of failures) {
      expect(failure.kind).toBe("stream");
      expect(failure.error?.code).toBe("upstream_unavailable");
      expect(failure.error?.message).toMatch(/LLM replica first failed mid-stream/);
      expect(failure.error?.details).toMatchObject({ replica: "first" });
    }
    // At most the streams that were running on the killed replica (2 sequences, a few queued) fail.
    expect(failures.length).toBeLessThanOrEqual(8);
    expect(outcomes.length - failures.length).toBeGreaterThanOrEqual(40);

    // The killed replica is down and gets nothing more.
    await balancer.checkHealth();
    const afterKill = balancer.stats();
    expect(afterKill.find((replica) => replica.id === "first")?.healthy).toBe(false);
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, index) => runOne(index % 2 === 0 ? "generate" : "stream", 500 + index)),
    );
    expect(results.every((outcome) => outcome.ok)).toBe(true);
    const later = balancer.stats();
    expect(later.find((replica) => replica.id === "first")?.requests).toBe(
      afterKill.find((replica) => replica.id === "first")?.requests,
    );
    expect(
      (later.find((replica) => replica.id === "second")?.requests ?? 0) -
        (afterKill.find((replica) => replica.id === "second")?.requests ?? 0),
    ).toBe(10);

    // A new process on the same address: the next probe brings the replica back into rotation.
    const restarted = await startService(first.port);
    first = { ...restarted, port: first.port };
    await balancer.checkHealth();
    expect(balancer.stats().find((replica) => replica.id === "first")?.healthy).toBe(true);
    const before = balancer.stats().find((replica) => replica.id === "first")?.requests ?? 0;
    await Promise.all(Array.from({ length: 6 }, (_, index) => runOne("generate", 600 + index)));
    expect((balancer.stats().find((replica) => replica.id === "first")?.requests ?? 0) - before).toBeGreaterThan(0);
  }, 180_000);
});
