/**
 * One `llm-twin eval generation` run: reads the questions, builds the twin (the RAG code in this
 * process over a store, with an in-process GGUF or an LLM service; or a running RAG service), the
 * judge and the voice model, evaluates, and releases everything it opened.
 */

import { existsSync } from "node:fs";
import { type CreateEmbedderOptions, createEmbedder } from "../../embedding/index.js";
import { AppError } from "../../errors/index.js";
import { ingest } from "../../ingestion/index.js";
import type { LanguageModel } from "../../llm/index.js";
import { createTracer, openTraceLog } from "../../observability/tracing/index.js";
import { type RagConfig, type RagDependencies, resolveRagConfig } from "../../rag/index.js";
import { type ResourceStack, withResources } from "../../runtime/index.js";
import { definedOnly } from "../../util/index.js";
import { openVectorStore } from "../../vector-store/index.js";
import {
  buildFromCounted,
  countDocuments,
  DEFAULT_VOICE_OPTIONS,
  readVoiceCorpus,
  type VoiceModel,
} from "../voice/index.js";
import { evaluateGeneration } from "./evaluate.js";
import { createOpenAiJudge, type Judge, type JudgeOptions } from "./judge.js";
import { readGenerationQuestions } from "./questions.js";
import type { GenerationRun } from "./report.js";
import { createHttpTwin, createInProcessTwin, type Twin } from "./twin.js";

/** The LLM of the in-process twin, built by the caller (llama.cpp or an LLM service client). */
export type InProcessLlm = {
  llm: LanguageModel;
  extras?: Pick<RagDependencies, "countTokens" | "promptLimit">;
};

export type GenerationRunOptions = {
  questions: string;
  limitQuestions?: number;
  twin:
    | { kind: "service"; url: string; apiKey?: string; timeoutMs: number }
    | {
        kind: "in-process";
        store: string;
        embedder: string;
        /** An "openai:" embedder's per-attempt timeout and retries. */
        embedderHttp?: CreateEmbedderOptions["http"];
        cacheDir?: string;
        /** Ingested first (idempotent, fingerprint-checked) when given. */
        corpus?: string;
        config: Partial<RagConfig>;
        traceFile: string;
        loadLlm: () => Promise<InProcessLlm>;
        /** A remote LLM or embedder: what to fix when it cannot be reached on the first answers (the run stops). */
        unreachableHint?: string;
      };
  judge?: JudgeOptions & { concurrency: number };
  /** Author corpus of the voice model; none: no voice scores. */
  voiceCorpus?: string;
  signal?: AbortSignal;
  onStage?: (message: string) => void;
  onProgress?: (progress: { completed: number; total: number; answered: number }) => void;
};

export async function runGenerationEvaluation(options: GenerationRunOptions): Promise<GenerationRun> {
  const started = performance.now();
  const startedAt = new Date().toISOString();
  const all = await readGenerationQuestions(options.questions);
  const questions = options.limitQuestions === undefined ? all : all.slice(0, options.limitQuestions);
  const voice =
    options.voiceCorpus === undefined ? undefined : await loadVoiceModel(options.voiceCorpus, options.onStage);
  const judge: Judge | undefined =
    options.judge === undefined ? undefined : createOpenAiJudge({ ...options.judge, stopWhenUnreachable: true });
  // The store, embedder, language model and trace log are released through one stack (src/runtime).
  return withResources(async (resources) => {
    const twin = await openTwin(options, resources);
    const results = await evaluateGeneration({
      questions,
      twin: twin,
      ...(judge === undefined ? {} : { judge, judgeConcurrency: options.judge?.concurrency ?? 4 }),
      ...(voice === undefined ? {} : { voice }),
      ...(options.signal === undefined ? {} : { signal: options.signal }),
      ...(options.onProgress === undefined ? {} : { onProgress: options.onProgress }),
    });
    return {
      questionsFile: options.questions,
      twin: twin.description,
      judge:
        judge === undefined || options.judge === undefined
          ? null
          : { url: options.judge.url, model: judge.model, promptsVersion: judge.promptsVersion },
      voice:
        voice === undefined || options.voiceCorpus === undefined
          ? null
          : { corpus: options.voiceCorpus, method: voice.method, authors: voice.authors },
      startedAt,
      seconds: (performance.now() - started) / 1000,
      results,
    };
  });
}

async function loadVoiceModel(corpus: string, onStage: ((message: string) => void) | undefined): Promise<VoiceModel> {
  onStage?.(`building the voice model from ${corpus}`);
  const { documents } = await readVoiceCorpus(corpus, "--voice-corpus");
  return buildFromCounted(countDocuments(documents, DEFAULT_VOICE_OPTIONS.ngramSize), DEFAULT_VOICE_OPTIONS);
}

async function openTwin(options: GenerationRunOptions, resources: ResourceStack): Promise<Twin> {
  const spec = options.twin;
  if (spec.kind === "service") {
    return createHttpTwin({
      url: spec.url,
      timeoutMs: spec.timeoutMs,
      ...(spec.apiKey === undefined ? {} : { apiKey: spec.apiKey }),
    });
  }
  const store = resources.use("store", await openVectorStore(spec.store));
  const embedder = resources.use(
    "embedder",
    await createEmbedder(spec.embedder, definedOnly({ cacheDir: spec.cacheDir, http: spec.embedderHttp })),
  );
  if (spec.corpus !== undefined) {
    if (!existsSync(spec.corpus)) {
      throw new AppError("not_found", `the corpus ${spec.corpus} does not exist (check --corpus)`);
    }
    options.onStage?.(`ingesting ${spec.corpus} into ${store.location} (unchanged documents are skipped)`);
    await ingest({
      source: spec.corpus,
      store,
      embedder,
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    });
    await store.optimize();
  } else if ((await store.count()) === 0) {
    throw new AppError(
      "bad_request",
      `the store ${store.location} is empty: give --corpus <documents> to ingest first, or --store with an ingested store`,
    );
  }
  options.onStage?.("loading the language model");
  const llm = await spec.loadLlm();
  resources.use("language model", llm.llm);
  // Released after its last trace is written.
  const traceLog = resources.use("trace log", await openTraceLog({ capacity: 10_000, file: spec.traceFile }));
  const deps: RagDependencies = {
    store,
    embedder,
    llm: llm.llm,
    config: resolveRagConfig(spec.config),
    ...llm.extras,
  };
  return createInProcessTwin(
    deps,
    createTracer([traceLog]),
    `RAG pipeline in process (model ${llm.llm.id}, store ${store.location}, embedder ${embedder.id}; traces in ${spec.traceFile})`,
    spec.unreachableHint,
  );
}
