/**
 * `llm-twin eval generation`: every question of a JSONL file through the RAG pipeline (in this
 * process, or a running service with --rag-url), each answer scored by an OpenAI-compatible judge
 * (--judge-url) and without one (voice, citation overlap, length, latency). Table (or --json) on
 * stdout, progress on stderr, a Markdown report with one SVG chart per metric.
 */
import type { Command } from "commander";
import { httpEmbedderOptions } from "../../embedding/http/settings.js";
import { AppError } from "../../errors/index.js";
import type { GenerationRunOptions, InProcessLlm } from "../../eval/generation/index.js";
import { createProgress, type Progress } from "../../observability/progress.js";
import { handleShutdownSignals } from "../../runtime/index.js";
import { addSettingOptions } from "../settings-options.js";
import {
  EVAL_GENERATION_SETTINGS,
  type EvalGenerationConfig,
  parseEvalGenerationConfig,
} from "./eval-generation-settings.js";
import { DEFAULT_VOICE_CORPUS } from "./eval-voice-settings.js";

export {
  DEFAULT_GENERATION_REPORT,
  DEFAULT_GENERATION_STORE,
  DEFAULT_GENERATION_TRACE_FILE,
  EVAL_GENERATION_SETTINGS,
  type EvalGenerationConfig,
  parseEvalGenerationConfig,
} from "./eval-generation-settings.js";

export function registerEvalGenerationCommand(evalCommand: Command): void {
  const command = evalCommand
    .command("generation")
    .description(
      "Answer each question of a JSONL file with the RAG pipeline and score the answers: judge metrics over an OpenAI-compatible API (--judge-url) and judge-free voice, citation overlap, length and latency",
    );
  addSettingOptions(command, EVAL_GENERATION_SETTINGS).action(async (raw: Record<string, unknown>) => {
    await runEvalGenerationCommand(parseEvalGenerationConfig(raw));
  });
}

async function loadLlm(config: EvalGenerationConfig): Promise<InProcessLlm> {
  if (config.llmUrl !== undefined) {
    const { createLanguageModelFromUrl } = await import("../../llm/clients/index.js");
    const llm = createLanguageModelFromUrl(config.llmUrl, { api: config.llmApi });
    return { llm };
  }
  const { DEMO_MODEL, DEMO_MODEL_WARNING, demoModelPath } = await import("../../llm/demo-model.js");
  const { createLlamaCppLanguageModel } = await import("../../llm/llama-cpp/index.js");
  const { resolveModelFile } = await import("../../model-source/index.js");
  const { inProcessPromptLimit } = await import("../../rag/service/run.js");
  const model = config.model ?? DEMO_MODEL;
  if (model === DEMO_MODEL) process.stderr.write(`llm-twin eval generation: ${DEMO_MODEL_WARNING}\n`);
  const modelPath =
    model === DEMO_MODEL
      ? await demoModelPath()
      : await resolveModelFile(model, config.cacheDir === undefined ? {} : { cacheDir: config.cacheDir });
  const llm = await createLlamaCppLanguageModel({
    modelPath,
    parallel: 1,
    ...(config.threads === undefined ? {} : { threads: config.threads }),
  });
  return { llm, extras: inProcessPromptLimit(llm.engine) };
}

function twinOptions(config: EvalGenerationConfig): GenerationRunOptions["twin"] {
  if (config.ragUrl !== undefined) {
    return {
      kind: "service",
      url: config.ragUrl,
      timeoutMs: config.ragTimeoutMs,
      ...(config.ragApiKey === undefined ? {} : { apiKey: config.ragApiKey }),
    };
  }
  const corpus = config.corpus ?? (config.questions === "llm-twin" ? DEFAULT_VOICE_CORPUS : undefined);
  const hint = unreachableHint(config);
  return {
    kind: "in-process",
    store: config.store,
    embedder: config.embedder,
    embedderHttp: httpEmbedderOptions(config),
    ...(config.cacheDir === undefined ? {} : { cacheDir: config.cacheDir }),
    ...(corpus === undefined ? {} : { corpus }),
    config: {
      ...(config.k === undefined ? {} : { k: config.k }),
      ...(config.maxNewTokens === undefined ? {} : { maxNewTokens: config.maxNewTokens }),
      ...(config.expandQueries === undefined ? {} : { expandQueries: config.expandQueries }),
      ...(config.selfQuery === undefined ? {} : { selfQuery: config.selfQuery }),
    },
    traceFile: config.traceFile,
    loadLlm: () => loadLlm(config),
    ...(hint === undefined ? {} : { unreachableHint: hint }),
  };
}

/** What to fix when the remote LLM or embedder of the in-process twin cannot be reached. */
function unreachableHint(config: EvalGenerationConfig): string | undefined {
  const remote: string[] = [];
  if (config.llmUrl !== undefined)
    remote.push(`start the LLM service or point --llm-url (LLM_TWIN_EVAL_GENERATION_LLM_URL) at it`);
  if (config.embedder.startsWith("openai:"))
    remote.push(`check the embedder server of --embedder (LLM_TWIN_EMBEDDER) ${config.embedder}`);
  return remote.length === 0 ? undefined : remote.join(", and ");
}

export async function runEvalGenerationCommand(config: EvalGenerationConfig): Promise<void> {
  // Loaded here, not at the top: `--help` must not pay for the RAG pipeline and the report.
  const { formatGenerationTable, generationJson, runGenerationEvaluation, writeGenerationReport } = await import(
    "../../eval/generation/index.js"
  );
  process.env.LANCEDB_LOG ??= "error";
  const isTTY = config.progress === "auto" ? undefined : config.progress === "tty";
  let progress: Progress | undefined;
  const log = (message: string) => {
    if (config.progress !== "none") process.stderr.write(`llm-twin eval generation: ${message}\n`);
  };
  // The one signal path (src/runtime): Ctrl-C stops the run, then what it opened is released; a
  // second signal exits at once.
  const controller = new AbortController();
  const stopHandlingSignals = handleShutdownSignals({
    name: "llm-twin eval generation",
    exitWhenDone: false,
    shutdown: () => controller.abort(new AppError("aborted", "interrupted")),
  });
  const run = await runGenerationEvaluation({
    signal: controller.signal,
    questions: config.questions,
    ...(config.limitQuestions === undefined ? {} : { limitQuestions: config.limitQuestions }),
    twin: twinOptions(config),
    ...(config.judgeUrl === undefined
      ? {}
      : {
          judge: {
            url: config.judgeUrl,
            model: config.judgeModel,
            timeoutMs: config.judgeTimeoutMs,
            retries: config.judgeRetries,
            concurrency: config.judgeConcurrency,
            ...(config.judgeApiKey === undefined ? {} : { apiKey: config.judgeApiKey }),
          },
        }),
    ...(config.voiceCorpus === false ? {} : { voiceCorpus: config.voiceCorpus }),
    onStage: log,
    onProgress: ({ completed, total, answered }) => {
      if (config.progress === "none") return;
      progress ??= createProgress({
        label: "eval generation",
        unit: "questions",
        total,
        ...(isTTY === undefined ? {} : { isTTY }),
      });
      progress.update({ completed, total, counters: { answered } });
    },
  }).finally(stopHandlingSignals);
  progress?.finish();
  let reportFile: string | undefined;
  if (config.report !== false) {
    reportFile = config.report;
    await writeGenerationReport(run, reportFile, `llm-twin ${process.argv.slice(2).join(" ")}`);
  }
  if (config.json) process.stdout.write(`${JSON.stringify({ ...generationJson(run), report: reportFile ?? null })}\n`);
  else {
    process.stdout.write(`${formatGenerationTable(run)}\n`);
    if (reportFile !== undefined) process.stderr.write(`report written to ${reportFile}\n`);
  }
}
