/**
 * `llm-twin eval retrieval`: the retrieval-quality harness (issue 5). Ingests the dataset's corpus
 * through the feature pipeline (reusing the store when its fingerprint matches), runs every query
 * through the RAG service's own `retrieve` in each mode, prints nDCG@10, recall@10, recall@100,
 * MRR@10 and per-query latency as a table (or one JSON object with --json) and writes a Markdown
 * report. Progress goes to stderr.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { type Command, Option } from "commander";
import { z } from "zod";
import { DEFAULT_EMBEDDER_SPEC } from "../../embedding/create.js";
import { AppError } from "../../errors/index.js";
import { DEFAULT_EVAL_STORE_ROOT, DEFAULT_EVALUATION_SETTINGS } from "../../eval/retrieval/settings.js";
import { createProgress, type Progress } from "../../observability/progress.js";
import type { Reranker } from "../../rag/index.js";
import { handleShutdownSignals } from "../../runtime/index.js";
import type { SearchMode } from "../../vector-store/index.js";
import { positive } from "../flag-schemas.js";

const configSchema = z.object({
  dataset: z.string().trim().min(1, "--dataset must not be empty"),
  split: z.string().trim().min(1, "--split must not be empty"),
  corpus: z.string().trim().min(1).optional(),
  mode: z.enum(["dense", "lexical", "hybrid", "all"], { error: "--mode must be dense, lexical, hybrid or all" }),
  json: z.boolean(),
  k: positive("--k"),
  depth: positive("--depth"),
  store: z.string().trim().min(1, "--store must not be empty").optional(),
  embedder: z.string().trim().min(1, "--embedder / LLM_TWIN_EMBEDDER must not be empty"),
  reranker: z.string().trim().min(1).optional(),
  rerankCandidates: positive("--rerank-candidates"),
  denseWeight: z.coerce
    .number({ error: "--dense-weight must be a number" })
    .min(0, "--dense-weight must be within 0..1")
    .max(1, "--dense-weight must be within 0..1"),
  rrfK: positive("--rrf-k"),
  searchLimit: positive("--search-limit"),
  report: z.union([z.string().trim().min(1), z.literal(false)]).optional(),
  limitQueries: positive("--limit-queries").optional(),
  recreate: z.boolean(),
  cacheDir: z.string().trim().min(1).optional(),
  threads: positive("--threads / LLM_TWIN_THREADS").optional(),
  progress: z.enum(["auto", "tty", "plain", "none"], { error: "--progress must be auto, tty, plain or none" }),
  stopWords: z.enum(["store-default", "keep", "remove"], {
    error: "--stop-words must be store-default, keep or remove",
  }),
  stem: z.enum(["store-default", "on", "off"], { error: "--stem must be store-default, on or off" }),
});

export type EvalCommandConfig = z.infer<typeof configSchema>;

export function parseEvalConfig(raw: Record<string, unknown>): EvalCommandConfig {
  const parsed = configSchema.safeParse({
    ...raw,
    json: raw.json === true,
    recreate: raw.recreate === true,
  });
  if (!parsed.success) {
    throw new AppError("configuration_error", parsed.error.issues.map((issue) => issue.message).join("; "));
  }
  return parsed.data;
}

export function registerEvalCommand(program: Command): void {
  const evalCommand = program.command("eval").description("Evaluate the system (retrieval quality)");
  evalCommand
    .command("retrieval")
    .description(
      "Ingest a BEIR-layout dataset (or the LLM Twin question set) and score retrieval: nDCG@10, recall@10, recall@100, MRR@10 and per-query latency, per mode",
    )
    .requiredOption("--dataset <path|llm-twin>", 'a BEIR-layout folder (corpus, queries, qrels) or "llm-twin"')
    .option("--split <name>", "the BEIR split: queries-<split>.jsonl and qrels/<split>.tsv", "test")
    .option(
      "--corpus <file>",
      'the articles file of the "llm-twin" dataset',
      "../shared/datasets/llm-twin/articles.json",
    )
    .addOption(
      new Option("--mode <mode>", "retrieval mode: dense, lexical, hybrid, or all three")
        .choices(["dense", "lexical", "hybrid", "all"])
        .default("all"),
    )
    .option("--json", "print the results as one JSON object on stdout")
    .option("--k <n>", "cut-off of nDCG, recall and MRR", String(DEFAULT_EVALUATION_SETTINGS.k))
    .option("--depth <n>", "documents kept per query (recall@depth)", String(DEFAULT_EVALUATION_SETTINGS.depth))
    .option("--store <uri>", `vector store (default lancedb:${DEFAULT_EVAL_STORE_ROOT}/<dataset name>)`)
    .addOption(
      new Option("--embedder <spec>", 'embedder: "static" or "gguf:<path | url | hf:...>"')
        .env("LLM_TWIN_EMBEDDER")
        .default(DEFAULT_EMBEDDER_SPEC),
    )
    .option("--reranker <gguf>", "also evaluate each mode followed by this GGUF reranker (path, URL or hf: URI)")
    .option(
      "--rerank-candidates <n>",
      "candidates the reranker scores per query",
      String(DEFAULT_EVALUATION_SETTINGS.rerankCandidates),
    )
    .option(
      "--dense-weight <x>",
      "weight of the dense list in hybrid fusion (lexical gets 1 - x)",
      String(DEFAULT_EVALUATION_SETTINGS.hybridDenseWeight),
    )
    .option("--rrf-k <n>", "reciprocal-rank fusion constant", String(DEFAULT_EVALUATION_SETTINGS.rrfK))
    .option(
      "--search-limit <n>",
      "chunks asked of the store per search",
      String(DEFAULT_EVALUATION_SETTINGS.searchLimit),
    )
    .option("--report <file.md>", `Markdown report (default ${DEFAULT_EVAL_STORE_ROOT}/<dataset>-<split>-report.md)`)
    .option("--no-report", "write no Markdown report")
    .option("--limit-queries <n>", "evaluate only the first n queries")
    .option("--recreate", "drop the evaluation store first")
    .addOption(new Option("--cache-dir <dir>", "cache directory").env("LLM_TWIN_CACHE_DIR"))
    .addOption(new Option("--threads <n>", "llama.cpp threads of the reranker").env("LLM_TWIN_THREADS"))
    .addOption(
      new Option("--stop-words <policy>", "full-text index (LanceDB): keep or remove English stop words")
        .choices(["store-default", "keep", "remove"])
        .default("store-default"),
    )
    .addOption(
      new Option("--stem <on|off>", "full-text index (LanceDB): English stemming")
        .choices(["store-default", "on", "off"])
        .default("store-default"),
    )
    .addOption(
      new Option("--progress <style>", "progress display on stderr")
        .choices(["auto", "tty", "plain", "none"])
        .default("auto"),
    )
    .action(async (raw: Record<string, unknown>) => {
      await runEvalRetrievalCommand(parseEvalConfig(raw));
    });
}

export async function runEvalRetrievalCommand(config: EvalCommandConfig): Promise<void> {
  const modes: SearchMode[] = config.mode === "all" ? ["lexical", "dense", "hybrid"] : [config.mode];
  const { evaluationJson, formatEvaluationMarkdown, formatEvaluationTable, runRetrievalEvaluation } = await import(
    "../../eval/index.js"
  );
  let reranker: Reranker | undefined;
  if (config.reranker !== undefined) {
    const { loadReranker } = await import("../../rag/service/reranker.js");
    reranker = await loadReranker(
      config.reranker,
      config.cacheDir,
      config.threads === undefined ? {} : { threads: config.threads },
    );
  }
  const showProgress = config.progress !== "none";
  const isTTY = config.progress === "auto" ? undefined : config.progress === "tty";
  const progressOptions = (label: string, unit: string) => ({
    label,
    unit,
    ...(isTTY === undefined ? {} : { isTTY }),
  });
  // Ctrl-C stops the run (ingestion and queries), then the reranker is released; again exits at once.
  const controller = new AbortController();
  const stopHandlingSignals = handleShutdownSignals({
    name: "llm-twin eval",
    exitWhenDone: false,
    shutdown: () => controller.abort(new AppError("aborted", "interrupted")),
  });
  let ingestProgress: Progress | undefined;
  let queryProgress: Progress | undefined;
  let currentLabel = "";
  let plannedQueries = 0;
  try {
    const run = await runRetrievalEvaluation({
      dataset: config.dataset,
      split: config.split,
      ...(config.corpus === undefined ? {} : { corpus: config.corpus }),
      modes,
      ...(config.store === undefined ? {} : { store: config.store }),
      embedderSpec: config.embedder,
      ...fullTextOverrides(config),
      ...(config.cacheDir === undefined ? {} : { cacheDir: config.cacheDir }),
      ...(reranker === undefined ? {} : { reranker }),
      settings: {
        k: config.k,
        depth: config.depth,
        hybridDenseWeight: config.denseWeight,
        rrfK: config.rrfK,
        searchLimit: config.searchLimit,
        rerankCandidates: config.rerankCandidates,
      },
      ...(config.limitQueries === undefined ? {} : { limitQueries: config.limitQueries }),
      recreate: config.recreate,
      signal: controller.signal,
      onPlan: ({ queries }) => {
        plannedQueries = queries;
      },
      onIngestProgress: (progress) => {
        if (!showProgress) return;
        ingestProgress ??= createProgress({ ...progressOptions("ingest", "documents"), rateOf: "chunks" });
        ingestProgress.update({
          completed: progress.documentsRead,
          counters: { chunks: progress.chunksWritten + progress.chunksUnchanged },
        });
      },
      onQueryProgress: (progress) => {
        if (!showProgress) return;
        if (progress.label !== currentLabel) {
          ingestProgress?.finish();
          ingestProgress = undefined;
          queryProgress?.finish();
          currentLabel = progress.label;
          queryProgress = createProgress({
            ...progressOptions(`eval ${progress.label}`, "queries"),
            total: plannedQueries,
          });
        }
        queryProgress?.update({ completed: progress.completed, total: progress.total });
      },
    });
    ingestProgress?.finish();
    queryProgress?.finish();
    const reportFile =
      config.report === false
        ? undefined
        : (config.report ??
          join(DEFAULT_EVAL_STORE_ROOT, `${run.dataset}${run.split === null ? "" : `-${run.split}`}-report.md`));
    if (reportFile !== undefined) {
      await mkdir(dirname(reportFile), { recursive: true });
      await writeFile(reportFile, formatEvaluationMarkdown(run, `llm-twin ${process.argv.slice(2).join(" ")}`));
    }
    if (config.json) {
      process.stdout.write(`${JSON.stringify({ ...evaluationJson(run), report: reportFile ?? null })}\n`);
    } else {
      process.stdout.write(`${formatEvaluationTable(run)}\n`);
      if (reportFile !== undefined) process.stderr.write(`report written to ${reportFile}\n`);
    }
  } finally {
    stopHandlingSignals();
    await reranker?.dispose();
  }
}

function fullTextOverrides(config: EvalCommandConfig): { fullText?: { removeStopWords?: boolean; stem?: boolean } } {
  const fullText = {
    ...(config.stopWords === "store-default" ? {} : { removeStopWords: config.stopWords === "remove" }),
    ...(config.stem === "store-default" ? {} : { stem: config.stem === "on" }),
  };
  return Object.keys(fullText).length === 0 ? {} : { fullText };
}
