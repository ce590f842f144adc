/**
 * Online evaluation (`serve --online-eval-rate 0.1`): a share of the live answers is scored in the
 * background by the judge and the voice model. It is a trace sink: it sees each finished `rag`
 * trace (after the prompt capture policy), samples it, and queues it; the answer went out long
 * before. The queue is bounded (a full queue drops the sample), and while the judge is failing its
 * metrics are skipped for a cool-down instead of piling up calls. Scores are attached to the trace
 * (`attributes.onlineEval`, visible in /traces) and their running means per author are exported in
 * /metrics.
 */
import { Counter, Gauge, type Registry } from "prom-client";
import type { TraceRecord, TraceSink } from "../../observability/tracing/index.js";
import type { JudgeMetric } from "../../preprocessing/index.js";
import { citationOverlap } from "../generation/citation-overlap.js";
import type { Judge, MetricScore } from "../generation/judge.js";
import { type VoiceModel, voiceOf } from "../voice/index.js";

export type OnlineEvaluatorOptions = {
  /** Share of answers scored, 0..1. */
  rate: number;
  /** Samples waiting at most; beyond, new samples are dropped. */
  queueCapacity: number;
  judge?: Judge;
  voice?: VoiceModel;
  registry: Registry;
  /** After a failed judge call, judge metrics are skipped this long (ms). */
  judgeCooldownMs?: number;
  random?: () => number;
  now?: () => number;
};

export const DEFAULT_ONLINE_EVAL = { rate: 0, queueCapacity: 100, judgeCooldownMs: 30_000 } as const;

/** The judge metrics scored online (context recall needs a reference answer, which live traffic lacks). */
const ONLINE_JUDGE_METRICS: readonly JudgeMetric[] = ["faithfulness", "answerRelevance", "contextPrecision"];

type Sample = { record: TraceRecord; question: string; answer: string; contexts: string[]; author: string | null };

export type OnlineEvaluator = TraceSink & {
  /** Resolves when the queue is empty (tests, shutdown). */
  idle(): Promise<void>;
  readonly queued: number;
};

function sampleOf(record: TraceRecord): Sample | { skip: string } {
  if (record.name !== "rag" || record.status !== "ok") return { skip: "not_an_answer" };
  const answer = record.attributes.answer;
  const question = record.attributes.query;
  const chunks = record.spans.find((span) => span.name === "prompt")?.attributes.retrievedChunks;
  if (typeof answer !== "string" || typeof question !== "string" || !Array.isArray(chunks))
    return { skip: "no_content" };
  const texts = (chunks as { text?: unknown; author?: unknown }[]).map((chunk) =>
    typeof chunk.text === "string" ? chunk.text : "",
  );
  const selfQueried = record.spans.find((span) => span.name === "self-query")?.attributes.authorName;
  const firstAuthor = (chunks[0] as { author?: unknown } | undefined)?.author;
  const author = typeof selfQueried === "string" ? selfQueried : typeof firstAuthor === "string" ? firstAuthor : null;
  return { record, question, answer, contexts: texts, author };
}

export function createOnlineEvaluator(options: OnlineEvaluatorOptions): OnlineEvaluator {
  const random = options.random ?? Math.random;
  const now = options.now ?? Date.now;
  const cooldownMs = options.judgeCooldownMs ?? DEFAULT_ONLINE_EVAL.judgeCooldownMs;
  const samples = new Counter({
    name: "llm_twin_rag_online_eval_samples_total",
    help: "Answers seen by online evaluation, by outcome (scored, dropped_queue_full, skipped_no_content, ...)",
    labelNames: ["outcome"],
    registers: [options.registry],
  });
  const judgeCalls = new Counter({
    name: "llm_twin_rag_online_eval_judge_total",
    help: "Online judge scores, by metric and outcome (scored, missing, skipped_judge_down)",
    labelNames: ["metric", "outcome"],
    registers: [options.registry],
  });
  const means = new Gauge({
    name: "llm_twin_rag_online_eval_score_mean",
    help: "Running mean of each online evaluation score per author (voice, voice_margin, citation_overlap, judge metrics)",
    labelNames: ["metric", "author"],
    registers: [options.registry],
  });
  const queueGauge = new Gauge({
    name: "llm_twin_rag_online_eval_queue",
    help: "Answers waiting for online evaluation",
    registers: [options.registry],
  });
  const sums = new Map<string, { sum: number; count: number }>();
  const observe = (metric: string, author: string, value: number) => {
    const key = `${metric}\u0000${author}`;
    const entry = sums.get(key) ?? { sum: 0, count: 0 };
    entry.sum += value;
    entry.count++;
    sums.set(key, entry);
    means.set({ metric, author }, entry.sum / entry.count);
  };

  const queue: Sample[] = [];
  let running: Promise<void> | undefined;
  let judgeDownUntil = 0;
  let closed = false;

  async function score(sample: Sample): Promise<void> {
    const author = sample.author ?? "(no author)";
    const result: Record<string, unknown> = {};
    if (options.voice !== undefined && sample.author !== null) {
      const known = options.voice.authors.find((name) => name.toLowerCase() === sample.author?.toLowerCase());
      if (known !== undefined && sample.answer.trim() !== "") {
        const voice = voiceOf(options.voice, sample.answer, known);
        result.voice = voice.score;
        result.voiceMargin = voice.margin;
        observe("voice", author, voice.score);
        observe("voice_margin", author, voice.margin);
      }
    }
    const overlap = citationOverlap(sample.answer, sample.contexts);
    if (overlap.value !== null) {
      result.citationOverlap = overlap.value;
      observe("citation_overlap", author, overlap.value);
    }
    if (options.judge !== undefined) {
      for (const metric of ONLINE_JUDGE_METRICS) {
        if (now() < judgeDownUntil) {
          judgeCalls.inc({ metric, outcome: "skipped_judge_down" });
          continue;
        }
        const scored: MetricScore = await options.judge.score(metric, {
          question: sample.question,
          answer: sample.answer,
          contexts: sample.contexts,
        });
        if (scored.value === null) {
          judgeCalls.inc({ metric, outcome: "missing" });
          result[metric] = { missing: scored.reason };
          if (/cannot reach|did not answer|HTTP 5|HTTP 429/.test(scored.reason)) judgeDownUntil = now() + cooldownMs;
        } else {
          judgeCalls.inc({ metric, outcome: "scored" });
          result[metric] = scored.value;
          observe(metric, author, scored.value);
        }
      }
    }
    sample.record.attributes.onlineEval = { author: sample.author, ...result };
    samples.inc({ outcome: "scored" });
  }

  async function drain(): Promise<void> {
    while (queue.length > 0) {
      const sample = queue.shift() as Sample;
      queueGauge.set(queue.length);
      try {
        await score(sample);
      } catch {
        samples.inc({ outcome: "failed" });
      }
    }
    running = undefined;
  }

  return {
    record(record) {
      if (closed || options.rate <= 0 || random() >= options.rate) return;
      const sample = sampleOf(record);
      if ("skip" in sample) {
        samples.inc({ outcome: `skipped_${sample.skip}` });
        return;
      }
      if (queue.length >= options.queueCapacity) {
        samples.inc({ outcome: "dropped_queue_full" });
        return;
      }
      queue.push(sample);
      queueGauge.set(queue.length);
      // Scoring starts on a later turn of the event loop: never inside the request that recorded it.
      running ??= new Promise<void>((resolve) => setImmediate(resolve)).then(drain);
    },
    async idle() {
      while (running !== undefined) await running;
    },
    get queued() {
      return queue.length;
    },
    async [Symbol.asyncDispose]() {
      closed = true;
      queue.length = 0;
      queueGauge.set(0);
      await running;
    },
  };
}
