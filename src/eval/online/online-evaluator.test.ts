/** Online evaluation as a trace sink: sampling, background scoring attached to traces, metrics, bounded queue, judge outages. */
import { Registry } from "prom-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openTraceLog } from "../../observability/tracing/index.js";
import { createTracer } from "../../observability/tracing/tracer.js";
import type { TraceRecord } from "../../observability/tracing/types.js";
import { answerOnce, resolveRagConfig } from "../../rag/index.js";
import { fakeEmbedder, fakeLanguageModel, fakeStore, MAXIME, PAUL, sampleChunks } from "../../rag/testing/fakes.js";
import { type ScriptedJudge, startScriptedJudge } from "../../testing/scripted-judge.js";
import { createOpenAiJudge } from "../generation/judge.js";
import { buildVoiceModel } from "../voice/index.js";
import { createOnlineEvaluator } from "./online-evaluator.js";

const voice = buildVoiceModel(
  Array.from({ length: 4 }, (_, index) => [
    {
      id: `p${index}`,
      author: PAUL.fullName,
      text: "So you just build it and ship it, that's the trick! ".repeat(20 + index),
    },
    {
      id: `m${index}`,
      author: MAXIME.fullName,
      text: "Thus, the model is, in fact, rather robust; however, it must be examined. ".repeat(20 + index),
    },
  ]).flat(),
  { words: 40, ngrams: 60, temperature: 0.05 },
);

let judgeServer: ScriptedJudge;
beforeAll(async () => {
  judgeServer = await startScriptedJudge();
});
afterAll(async () => {
  await judgeServer.close();
});

async function answers(count: number, sampling: { rate: number; random: () => number } | undefined = undefined) {
  const registry = new Registry();
  const evaluator = createOnlineEvaluator({
    rate: sampling?.rate ?? 1,
    queueCapacity: 100,
    registry,
    voice,
    ...(sampling === undefined
      ? { judge: createOpenAiJudge({ url: judgeServer.url, model: "judge", timeoutMs: 5_000, retries: 0 }) }
      : { random: sampling.random }),
  });
  const log = await openTraceLog({ capacity: 100 });
  const tracer = createTracer([log, evaluator]);
  const embedder = fakeEmbedder();
  const deps = {
    store: fakeStore(sampleChunks(), embedder),
    embedder,
    llm: fakeLanguageModel(),
    config: resolveRagConfig({ expandQueries: 1 }),
  };
  const ids: string[] = [];
  for (let index = 0; index < count; index++) {
    const trace = tracer.startTrace("rag", {});
    await answerOnce({ query: `Paul Iusztin on pipelines, take ${index}`, author: PAUL.id }, deps, { trace });
    trace.end();
    ids.push(trace.id);
  }
  return { evaluator, log, registry, ids };
}

describe("online evaluation", () => {
  it("scores sampled answers in the background, attaches the scores to the trace and exports means per author", async () => {
    const { evaluator, log, registry, ids } = await answers(2);
    expect(evaluator.queued).toBeGreaterThan(0); // recorded, not scored inside the request
    await evaluator.idle();
    for (const id of ids) {
      const scores = log.get(id)?.attributes.onlineEval as Record<string, unknown>;
      expect(scores).toMatchObject({
        author: PAUL.fullName,
        voice: expect.any(Number),
        voiceMargin: expect.any(Number),
        faithfulness: 0.75,
        answerRelevance: 0.75,
        contextPrecision: expect.any(Number),
      });
    }
    const metrics = await registry.metrics();
    expect(metrics).toContain('llm_twin_rag_online_eval_score_mean{metric="faithfulness",author="Paul Iusztin"} 0.75');
    expect(metrics).toMatch(/llm_twin_rag_online_eval_score_mean\{metric="voice",author="Paul Iusztin"\} \d/);
    expect(metrics).toContain('llm_twin_rag_online_eval_samples_total{outcome="scored"} 2');
    expect(judgeServer.requests.filter((request) => request.schemaName === "context_recall")).toEqual([]);
    await evaluator[Symbol.asyncDispose]();
  });

  it("samples the configured share", async () => {
    const draws = [0.05, 0.5, 0.09, 0.95, 0.2];
    const { evaluator, log, ids } = await answers(5, { rate: 0.1, random: () => draws.shift() ?? 1 });
    await evaluator.idle();
    expect(ids.map((id) => log.get(id)?.attributes.onlineEval !== undefined)).toEqual([
      true,
      false,
      true,
      false,
      false,
    ]);
  });

  it("drops samples beyond the queue, and skips the judge for a while once it is down", async () => {
    const registry = new Registry();
    const clock = 0;
    const evaluator = createOnlineEvaluator({
      rate: 1,
      queueCapacity: 2,
      registry,
      judge: createOpenAiJudge({ url: "http://127.0.0.1:9", model: "judge", timeoutMs: 2_000, retries: 0 }),
      now: () => clock,
      judgeCooldownMs: 1_000,
    });
    const record = (id: string): TraceRecord => ({
      id,
      rootSpanId: "r",
      name: "rag",
      startTime: 0,
      durationMs: 1,
      status: "ok",
      attributes: { query: "q", answer: "Pipelines move data between systems every single day." },
      spans: [
        {
          id: "s",
          name: "prompt",
          startTime: 0,
          durationMs: 0,
          status: "ok",
          attributes: {
            retrievedChunks: [
              { text: "Pipelines move data between systems every single day.", author: "Paul Iusztin" },
            ],
          },
        },
      ],
    });
    const records = ["a", "b", "c", "d"].map(record);
    for (const entry of records) evaluator.record(entry);
    evaluator.record({ ...record("e"), spans: [] });
    await evaluator.idle();
    const metrics = await registry.metrics();
    expect(metrics).toContain('llm_twin_rag_online_eval_samples_total{outcome="dropped_queue_full"} 2');
    expect(metrics).toContain('llm_twin_rag_online_eval_samples_total{outcome="skipped_no_content"} 1');
    expect(metrics).toContain('llm_twin_rag_online_eval_judge_total{metric="faithfulness",outcome="missing"} 1');
    expect(metrics).toContain(
      'llm_twin_rag_online_eval_judge_total{metric="faithfulness",outcome="skipped_judge_down"} 1',
    );
    expect(records[0]?.attributes.onlineEval).toMatchObject({
      citationOverlap: 1,
      faithfulness: { missing: expect.stringContaining("cannot reach") },
    });
    await evaluator[Symbol.asyncDispose]();
  });
});
