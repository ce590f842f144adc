/**
 * The generation evaluation: every question through the twin, one at a time (so step latencies are
 * the pipeline's, not queueing), and every answer scored without a judge (voice, citation overlap,
 * length, latency) and, when a judge is given, by the judge (faithfulness, answer relevance, context
 * precision and recall). Judge calls run in the background with bounded concurrency while the next
 * questions are answered; a failed judge call is a missing score with its reason, except a judge
 * that cannot be reached at all on its first calls (src/llm/unreachable.ts): that stops the run.
 */
import type { JudgeMetric } from "../../preprocessing/index.js";
import { JUDGE_METRICS } from "../../preprocessing/index.js";
import { type VoiceModel, voiceOf } from "../voice/index.js";
import { citationOverlap } from "./citation-overlap.js";
import type { Judge, MetricScore } from "./judge.js";
import type { GenerationQuestion } from "./questions.js";
import type { Twin, TwinAnswer } from "./twin.js";

export type VoiceScore =
  | { value: number; margin: number; author: string; closest: string }
  | { value: null; reason: string };

export type QuestionResult = {
  id: string;
  question: string;
  /** The author the answer should sound like (question, self-query, else best source's), or null. */
  author: string | null;
  traceId: string | null;
  answer: string;
  sources: { id: string; documentId: string; title: string; author: string; score: number }[];
  error?: { code: string; message: string };
  timings: TwinAnswer["timings"];
  words: number;
  characters: number;
  voice: VoiceScore;
  citationOverlap: MetricScore;
  judge: Partial<Record<JudgeMetric, MetricScore>>;
};

export type GenerationEvaluationOptions = {
  questions: readonly GenerationQuestion[];
  twin: Twin;
  judge?: Judge;
  /** Judge calls in flight at once. */
  judgeConcurrency?: number;
  voice?: VoiceModel;
  signal?: AbortSignal;
  /** After each question is fully scored (answer and judge calls). */
  onProgress?: (progress: { completed: number; total: number; answered: number }) => void;
};

export async function evaluateGeneration(options: GenerationEvaluationOptions): Promise<QuestionResult[]> {
  const { questions, twin, judge } = options;
  const limit = createLimiter(options.judgeConcurrency ?? 4);
  const results: Promise<QuestionResult>[] = [];
  let completed = 0;
  let answered = 0;
  const report = () => options.onProgress?.({ completed, total: questions.length, answered });
  // A judge call that stops the run (unreachable judge) rejects in the background: it ends the
  // loop and aborts the answer in flight; Promise.all below then rejects with it.
  const stop = new AbortController();
  const signal = options.signal === undefined ? stop.signal : AbortSignal.any([options.signal, stop.signal]);
  for (const question of questions) {
    if (signal.aborted) break;
    const answer = await twin.answer(question, signal);
    if (stop.signal.aborted) break;
    answered++;
    const base = offlineScores(question, answer, options.voice);
    const scored = (async (): Promise<QuestionResult> => {
      if (judge !== undefined && answer.error === undefined) {
        const input = {
          question: question.question,
          answer: answer.answer,
          contexts: answer.sources.map((source) => source.text),
          ...(question.reference === undefined ? {} : { reference: question.reference }),
          ...(question.history === undefined ? {} : { history: question.history }),
        };
        const scores = await Promise.all(
          JUDGE_METRICS.map((metric) => limit(() => judge.score(metric, input, signal))),
        );
        JUDGE_METRICS.forEach((metric, index) => {
          base.judge[metric] = scores[index] ?? { value: null, reason: "not scored" };
        });
      } else if (judge !== undefined) {
        for (const metric of JUDGE_METRICS) base.judge[metric] = { value: null, reason: "no answer to judge" };
      }
      completed++;
      report();
      return base;
    })();
    scored.catch((error: unknown) => stop.abort(error));
    results.push(scored);
    report();
  }
  return Promise.all(results);
}

function offlineScores(
  question: GenerationQuestion,
  answer: TwinAnswer,
  voice: VoiceModel | undefined,
): QuestionResult {
  const text = answer.answer;
  return {
    id: question.id,
    question: question.question,
    author: answer.author,
    traceId: answer.traceId,
    answer: text,
    sources: answer.sources.map((source) => ({
      id: source.id,
      documentId: source.documentId,
      title: source.title,
      author: source.author?.fullName ?? "",
      score: source.score,
    })),
    ...(answer.error === undefined ? {} : { error: answer.error }),
    timings: answer.timings,
    words: text.trim() === "" ? 0 : text.trim().split(/\s+/).length,
    characters: text.length,
    voice: voiceScore(voice, text, answer.author),
    citationOverlap: citationOverlap(
      text,
      answer.sources.map((source) => source.text),
    ),
    judge: {},
  };
}

function voiceScore(model: VoiceModel | undefined, text: string, author: string | null): VoiceScore {
  if (model === undefined) return { value: null, reason: "no voice model (--no-voice-corpus)" };
  if (text.trim() === "") return { value: null, reason: "the answer is empty" };
  if (author === null)
    return { value: null, reason: "no author (none in the question, none found by self-query, no source)" };
  const known = model.authors.find((candidate) => candidate.toLowerCase() === author.trim().toLowerCase());
  if (known === undefined) return { value: null, reason: `the voice model does not know ${author}` };
  const scored = voiceOf(model, text, known);
  return { value: scored.score, margin: scored.margin, author: scored.author, closest: scored.closest };
}

/** Runs at most `concurrency` tasks at once, in submission order. */
export function createLimiter(concurrency: number): <T>(task: () => Promise<T>) => Promise<T> {
  let active = 0;
  const waiting: (() => void)[] = [];
  // A finished task hands its slot straight to the next waiting one (no window for a newcomer).
  const release = () => {
    const next = waiting.shift();
    if (next === undefined) active--;
    else next();
  };
  return async (task) => {
    if (active >= concurrency) await new Promise<void>((resolve) => waiting.push(resolve));
    else active++;
    try {
      return await task();
    } finally {
      release();
    }
  };
}
