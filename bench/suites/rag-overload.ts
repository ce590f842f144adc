/**
 * `npm run bench -- rag-overload [--requests N] [--burst F] [--parallel P] [--max-new-tokens N] [--without-admission] [--json]`
 * The RAG service (issue 13, items 1–3) as `llm-twin serve` in its own process over the project's
 * sample corpus (static embedder, LanceDB) with a tiny generated GGUF as the in-process LLM,
 * driven over real HTTP, for `/rag` JSON and SSE. The admission bound L is serve's default: the engine's own limit (parallel +
 * queue). Phase 1: L closed-loop clients (every slot busy, nobody refused). Phase 2: F × L clients
 * (a 10× burst by default); a refused client retries after 100 ms. Reports the 429 latency p99
 * (target ≤ 50 ms) and the admitted latency p99 ÷ phase 1's p99 (target ≤ 1.25). An SSE request's
 * latency runs to the end of its stream. `--without-admission` lifts the RAG bound so the engine
 * refuses instead (after retrieval; inside a 200 stream for SSE): the behaviour before the fix.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { projectRoot } from "../../src/config/paths.js";
import { tinyModelPath } from "../../src/gguf/index.js";
import { spawnCli, stop, waitForStatus } from "../../src/testing/cli-process.js";
import { freePort } from "../../src/testing/free-port.js";
import { quantile } from "../support/llm-overload.js";
import { option, RAG_BENCH_QUERIES as QUERIES } from "../support/rag-bench.js";

export const name = "rag-overload";
export const description = "RAG service /rag (JSON and SSE) under a 10× burst: 429 p99 and admitted p99 ratio";

type Outcome = { status: number; latencyMs: number; refusedInStream: boolean };

async function ask(url: string, index: number, stream: boolean, maxNewTokens: number): Promise<Outcome> {
  const sent = performance.now();
  const response = await fetch(`${url}/rag`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(stream ? { accept: "text/event-stream" } : {}) },
    body: JSON.stringify({ query: QUERIES[index % QUERIES.length], maxNewTokens, stream }),
  });
  const text = await response.text();
  return {
    status: response.status,
    latencyMs: performance.now() - sent,
    refusedInStream: stream && response.status === 200 && text.includes('"code":"overloaded"'),
  };
}

type Phase = { admitted: number[]; refused: number[]; refusedInStream: number; otherFailures: number };

async function drive(
  url: string,
  clients: number,
  wanted: number,
  stream: boolean,
  maxNewTokens: number,
): Promise<Phase> {
  const phase: Phase = { admitted: [], refused: [], refusedInStream: 0, otherFailures: 0 };
  let next = 0;
  const client = async () => {
    while (phase.admitted.length < wanted && next < wanted * 200) {
      const outcome = await ask(url, next++, stream, maxNewTokens);
      if (outcome.status === 429 || outcome.refusedInStream) {
        phase.refused.push(outcome.latencyMs);
        if (outcome.refusedInStream) phase.refusedInStream += 1;
        await new Promise((resolve) => setTimeout(resolve, 100));
      } else if (outcome.status === 200) phase.admitted.push(outcome.latencyMs);
      else phase.otherFailures += 1;
    }
  };
  await Promise.all(Array.from({ length: clients }, client));
  return phase;
}

const ms = (value: number) => (Number.isNaN(value) ? "-" : value.toFixed(value < 10 ? 1 : 0));

export async function run(args: string[]): Promise<void> {
  process.env.LANCEDB_LOG ??= "error";
  const requests = Number(option(args, "--requests") ?? "200");
  const burst = Number(option(args, "--burst") ?? "10");
  const parallel = Number(option(args, "--parallel") ?? "2");
  const maxNewTokens = Number(option(args, "--max-new-tokens") ?? "24");
  const withoutAdmission = args.includes("--without-admission");
  const directory = await mkdtemp(join(tmpdir(), "llm-twin-bench-rag-overload-"));
  try {
    // The service in its own process (`llm-twin serve`), as users run it: the benchmark's clients
    // do not share its event loop.
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const serve = spawnCli([
      "serve",
      "--model",
      await tinyModelPath("chat"),
      "--store",
      `lancedb:${join(directory, "store")}`,
      "--sample-data",
      resolve(projectRoot, "sample-data"),
      "--port",
      String(port),
      "--threads",
      "1",
      "--parallel",
      String(parallel),
      "--expand-queries",
      "1",
      "--rate-limit",
      "0",
      "--log-level",
      "silent",
      ...(withoutAdmission ? ["--max-generations", "100000"] : []),
    ]);
    // serve's --max-generations auto: the engine's own limit, --parallel + its queue (= --parallel).
    const limit = parallel * 2;
    const results: Record<string, unknown> = {};
    const lines: string[] = [];
    try {
      await waitForStatus(`${url}/ready`, 200, serve, 300_000);
      await drive(url, limit, 12, false, maxNewTokens); // warm-up
      for (const stream of [false, true]) {
        const mode = stream ? "SSE" : "JSON";
        const atLimit = await drive(url, limit, requests, stream, maxNewTokens);
        const burstPhase = await drive(url, limit * burst, requests, stream, maxNewTokens);
        const atLimitP99 = quantile(atLimit.admitted, 0.99);
        const admittedP99 = quantile(burstPhase.admitted, 0.99);
        const refusedP99 = quantile(burstPhase.refused, 0.99);
        const ratio = admittedP99 / atLimitP99;
        results[mode] = {
          limit,
          clients: limit * burst,
          atLimit: { requests: atLimit.admitted.length, p50: quantile(atLimit.admitted, 0.5), p99: atLimitP99 },
          burst: {
            admitted: burstPhase.admitted.length,
            p50: quantile(burstPhase.admitted, 0.5),
            p99: admittedP99,
            refused: burstPhase.refused.length,
            refusedInStream: burstPhase.refusedInStream,
            refusedP50: quantile(burstPhase.refused, 0.5),
            refusedP99,
            otherFailures: burstPhase.otherFailures + atLimit.otherFailures,
          },
          p99Ratio: ratio,
        };
        lines.push(
          `| ${mode} | ${limit} / ${limit * burst} | ${ms(quantile(atLimit.admitted, 0.5))} / ${ms(atLimitP99)} | ${ms(quantile(burstPhase.admitted, 0.5))} / ${ms(admittedP99)} | **${ratio.toFixed(2)}** | ${burstPhase.refused.length}${burstPhase.refusedInStream > 0 ? ` (${burstPhase.refusedInStream} inside a 200 stream)` : ""} | ${ms(quantile(burstPhase.refused, 0.5))} / **${ms(refusedP99)}** | ${burstPhase.otherFailures + atLimit.otherFailures} |`,
        );
      }
    } finally {
      await stop(serve);
    }
    if (args.includes("--json")) {
      process.stdout.write(`${JSON.stringify({ withoutAdmission, maxNewTokens, requests, results }, null, 2)}\n`);
      return;
    }
    process.stdout.write(
      `${[
        `llm-twin serve in its own process: tiny generated GGUF (1 thread, --parallel ${parallel}, queue ${parallel}), sample corpus, hybrid search, expandQueries 1, maxNewTokens ${maxNewTokens}, ${requests} admitted requests per phase${withoutAdmission ? ", WITHOUT the RAG admission bound" : ""}`,
        "",
        "| /rag | limit / burst clients | at the limit p50 / p99 | burst: admitted p50 / p99 | p99 ratio (≤ 1.25) | refused | 429 p50 / p99 (≤ 50) | other failures |",
        "|---|---|---|---|---|---|---|---|",
        ...lines,
        "",
        "(milliseconds; a refused client retries after 100 ms)",
      ].join("\n")}\n`,
    );
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
}
