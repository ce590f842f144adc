/**
 * `llm-twin eval generation`: every question of a JSONL file through the RAG pipeline (in this
 * process, or a running service with --rag-url), each answer scored by an OpenAI-compatible judge
 * (--judge-url) and without one (voice, citation overlap, length, latency). Table (or --json) on
 * stdout, progress on stderr, a Markdown report with one SVG chart per metric.
 */
import { type Command, Option } from "commander";
import { z } from "zod";
import { AppError } from "../../errors/index.js";
import type { GenerationRunOptions, InProcessLlm } from "../../eval/generation/index.js";
import { DEFAULT_JUDGE_OPTIONS } from "../../eval/generation/judge-defaults.js";
import { createProgress, type Progress } from "../../observability/progress.js";
import { handleShutdownSignals } from "../../runtime/index.js";
import { positive } from "../flag-schemas.js";
import { DEFAULT_VOICE_CORPUS } from "./eval-voice.js";

export const DEFAULT_GENERATION_REPORT = "./.llm-twin/eval/generation-report.md";
export const DEFAULT_GENERATION_TRACE_FILE = "./.llm-twin/eval/generation-traces.jsonl";
export const DEFAULT_GENERATION_STORE = "lancedb:./.llm-twin/eval/llm-twin";
const DEFAULT_RAG_TIMEOUT_MS = 120_000;

const optionalText = (name: string) => z.string().trim().min(1, `${name} must not be empty`).optional();

const configSchema = z.object({
  questions: z.string().trim().min(1, "--questions must not be empty"),
  ragUrl: z.string().url("--rag-url must be a URL (http://host:port)").optional(),
  ragApiKey: optionalText("--rag-api-key"),
  ragTimeoutMs: positive("--rag-timeout-ms / LLM_TWIN_EVAL_RAG_TIMEOUT_MS"),
  store: z.string().trim().min(1, "--store must not be empty"),
  embedder: z.string().trim().min(1, "--embedder / LLM_TWIN_EMBEDDER must not be empty"),
  corpus: optionalText("--corpus"),
  model: optionalText("--model / LLM_TWIN_MODEL"),
  llmUrl: optionalText("--llm-url"),
  llmApi: z.enum(["tgi", "openai"], { error: "--llm-api must be tgi or openai" }),
  threads: positive("--threads / LLM_TWIN_THREADS").optional(),
  k: positive("--k").optional(),
  maxNewTokens: positive("--max-new-tokens").optional(),
  expandQueries: positive("--expand-queries").optional(),
  selfQuery: z.enum(["match", "llm", "off"], { error: "--self-query must be match, llm or off" }).optional(),
  traceFile: z.string().trim().min(1, "--trace-file must not be empty"),
  cacheDir: optionalText("--cache-dir"),
  judgeUrl: z.string().url("--judge-url / LLM_TWIN_JUDGE_URL must be a URL (http://host:port)").optional(),
  judgeModel: z.string().trim().min(1, "--judge-model / LLM_TWIN_JUDGE_MODEL must not be empty"),
  judgeApiKey: optionalText("--judge-api-key / LLM_TWIN_JUDGE_API_KEY"),
  judgeTimeoutMs: positive("--judge-timeout-ms / LLM_TWIN_JUDGE_TIMEOUT_MS"),
  judgeRetries: z.coerce
    .number({ error: "--judge-retries / LLM_TWIN_JUDGE_RETRIES must be a number" })
    .int("--judge-retries must be an integer")
    .min(0, "--judge-retries must be 0 or more"),
  judgeConcurrency: positive("--judge-concurrency / LLM_TWIN_JUDGE_CONCURRENCY"),
  voiceCorpus: z.union([z.string().trim().min(1, "--voice-corpus must not be empty"), z.literal(false)]),
  json: z.boolean(),
  report: z.union([z.string().trim().min(1, "--report must not be empty"), z.literal(false)]),
  limitQuestions: positive("--limit-questions").optional(),
  progress: z.enum(["auto", "tty", "plain", "none"], { error: "--progress must be auto, tty, plain or none" }),
});

export type EvalGenerationConfig = z.infer<typeof configSchema>;

export function parseEvalGenerationConfig(raw: Record<string, unknown>): EvalGenerationConfig {
  const parsed = configSchema.safeParse({ ...raw, json: raw.json === true });
  if (!parsed.success) {
    throw new AppError("configuration_error", parsed.error.issues.map((issue) => issue.message).join("; "));
  }
  const config = parsed.data;
  if (config.ragUrl !== undefined && (config.model !== undefined || config.llmUrl !== undefined)) {
    throw new AppError(
      "configuration_error",
      "--rag-url evaluates a running service, which has its own model: leave out --model / --llm-url",
    );
  }
  if (config.ragUrl === undefined && config.model === undefined && config.llmUrl === undefined) {
    throw new AppError(
      "configuration_error",
      'no twin to evaluate: give --rag-url <running RAG service>, or run it in process with --model <gguf | "demo"> or --llm-url <LLM service>',
    );
  }
  if (config.model !== undefined && config.llmUrl !== undefined) {
    throw new AppError(
      "configuration_error",
      "give --model (in-process llama.cpp) or --llm-url (an LLM service), not both",
    );
  }
  return config;
}

export function registerEvalGenerationCommand(evalCommand: Command): void {
  evalCommand
    .command("generation")
    .description(
      "Answer each question of a JSONL file with the RAG pipeline and score the answers: judge metrics over an OpenAI-compatible API (--judge-url) and judge-free voice, citation overlap, length and latency",
    )
    .requiredOption(
      "--questions <file.jsonl|llm-twin>",
      'JSON Lines of {question, author?, reference?, history?}, or "llm-twin" (the project\'s questions)',
    )
    .option("--rag-url <url>", "evaluate a running RAG service (POST /rag) instead of the pipeline in this process")
    .addOption(new Option("--rag-api-key <key>", "API key of the RAG service").env("LLM_TWIN_RAG_API_KEY"))
    .addOption(
      new Option("--rag-timeout-ms <ms>", "deadline of one answer of the RAG service")
        .env("LLM_TWIN_EVAL_RAG_TIMEOUT_MS")
        .default(String(DEFAULT_RAG_TIMEOUT_MS)),
    )
    .option("--store <uri>", "in process: the vector store", DEFAULT_GENERATION_STORE)
    .addOption(
      new Option("--embedder <spec>", "in process: the embedder of the store")
        .env("LLM_TWIN_EMBEDDER")
        .default("static"),
    )
    .option(
      "--corpus <file|folder>",
      "in process: documents to ingest into the store first (idempotent; default for --questions llm-twin: the LLM Twin articles)",
    )
    .addOption(
      new Option(
        "--model <gguf>",
        'in process: GGUF model (path, URL, hf:...) or "demo" (offline random-weight model)',
      ).env("LLM_TWIN_MODEL"),
    )
    .option("--llm-url <url>", "in process: an LLM service instead of --model (TGI API; openai:<url> also works)")
    .addOption(
      new Option("--llm-api <api>", "API of a plain http(s) --llm-url").choices(["tgi", "openai"]).default("tgi"),
    )
    .addOption(new Option("--threads <n>", "in process: llama.cpp threads").env("LLM_TWIN_THREADS"))
    .option("--k <n>", "in process: sources kept per answer (default: the service's)")
    .option("--max-new-tokens <n>", "in process: answer length limit (default: the service's)")
    .option("--expand-queries <n>", "in process: queries after expansion, 1 = off (default: the service's)")
    .addOption(
      new Option("--self-query <mode>", "in process: author detection (default: the service's)").choices([
        "match",
        "llm",
        "off",
      ]),
    )
    .option(
      "--trace-file <file>",
      "in process: where the answers' traces go (JSON Lines)",
      DEFAULT_GENERATION_TRACE_FILE,
    )
    .addOption(new Option("--cache-dir <dir>", "cache directory").env("LLM_TWIN_CACHE_DIR"))
    .addOption(
      new Option("--judge-url <url>", "OpenAI-compatible chat API of the judge (none: judge metrics are skipped)").env(
        "LLM_TWIN_JUDGE_URL",
      ),
    )
    .addOption(
      new Option("--judge-model <name>", "model name sent to the judge")
        .env("LLM_TWIN_JUDGE_MODEL")
        .default(DEFAULT_JUDGE_OPTIONS.model),
    )
    .addOption(new Option("--judge-api-key <key>", "bearer token of the judge").env("LLM_TWIN_JUDGE_API_KEY"))
    .addOption(
      new Option("--judge-timeout-ms <ms>", "deadline of one judge call")
        .env("LLM_TWIN_JUDGE_TIMEOUT_MS")
        .default(String(DEFAULT_JUDGE_OPTIONS.timeoutMs)),
    )
    .addOption(
      new Option("--judge-retries <n>", "extra attempts after a judge transport failure (network, timeout, 429, 5xx)")
        .env("LLM_TWIN_JUDGE_RETRIES")
        .default(String(DEFAULT_JUDGE_OPTIONS.retries)),
    )
    .addOption(
      new Option("--judge-concurrency <n>", "judge calls in flight at once")
        .env("LLM_TWIN_JUDGE_CONCURRENCY")
        .default(String(DEFAULT_JUDGE_OPTIONS.concurrency)),
    )
    .option("--voice-corpus <file|folder>", "the authors' documents for the voice model", DEFAULT_VOICE_CORPUS)
    .option("--no-voice-corpus", "no voice scores")
    .option("--json", "print one JSON object on stdout")
    .option("--report <file.md>", "Markdown report (charts in <name>-charts/ beside it)", DEFAULT_GENERATION_REPORT)
    .option("--no-report", "write no Markdown report")
    .option("--limit-questions <n>", "only the first n questions")
    .addOption(
      new Option("--progress <style>", "progress display on stderr")
        .choices(["auto", "tty", "plain", "none"])
        .default("auto"),
    )
    .action(async (raw: Record<string, unknown>) => {
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
  return {
    kind: "in-process",
    store: config.store,
    embedder: config.embedder,
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
  };
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
