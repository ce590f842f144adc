/**
 * `llm-twin eval retrieval`: the retrieval-quality harness (issue 5). Ingests the dataset's corpus
 * through the feature pipeline (reusing the store when its fingerprint matches), runs every query
 * through the RAG service's own `retrieve` in each mode, prints nDCG@10, recall@10, recall@100,
 * MRR@10 and per-query latency as a table (or one JSON object with --json) and writes a Markdown
 * report. Progress goes to stderr.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { Command } from "commander";
import { httpEmbedderOptions } from "../../embedding/http/settings.js";
import { AppError } from "../../errors/index.js";
import { DEFAULT_EVAL_STORE_ROOT } from "../../eval/retrieval/settings.js";
import { createProgress, type Progress } from "../../observability/progress.js";
import type { Reranker } from "../../rag/index.js";
import { handleShutdownSignals, withResources } from "../../runtime/index.js";
import type { SearchMode } from "../../vector-store/index.js";
import { addSettingOptions } from "../settings-options.js";
import { registerEvalGenerationCommand } from "./eval-generation.js";
import { EVAL_RETRIEVAL_SETTINGS, type EvalCommandConfig, parseEvalConfig } from "./eval-settings.js";
import { registerEvalVoiceCommand } from "./eval-voice.js";

export { EVAL_RETRIEVAL_SETTINGS, type EvalCommandConfig, parseEvalConfig } from "./eval-settings.js";

export function registerEvalCommand(program: Command): void {
  const evalCommand = program
    .command("eval")
    .description("Evaluate the system (retrieval quality, generated answers, voice)");
  registerEvalVoiceCommand(evalCommand);
  registerEvalGenerationCommand(evalCommand);
  const retrieval = evalCommand
    .command("retrieval")
    .description(
      "Ingest a BEIR-layout dataset (or the LLM Twin question set) and score retrieval: nDCG@10, recall@10, recall@100, MRR@10 and per-query latency, per mode",
    );
  addSettingOptions(retrieval, EVAL_RETRIEVAL_SETTINGS).action(async (raw: Record<string, unknown>) => {
    await runEvalRetrievalCommand(parseEvalConfig(raw));
  });
}

export async function runEvalRetrievalCommand(config: EvalCommandConfig): Promise<void> {
  const modes: SearchMode[] = config.mode === "all" ? ["lexical", "dense", "hybrid"] : [config.mode];
  const { evaluationJson, formatEvaluationMarkdown, formatEvaluationTable, runRetrievalEvaluation } = await import(
    "../../eval/index.js"
  );
  const showProgress = config.progress !== "none";
  const isTTY = config.progress === "auto" ? undefined : config.progress === "tty";
  const progressOptions = (label: string, unit: string) => ({
    label,
    unit,
    ...(isTTY === undefined ? {} : { isTTY }),
  });
  // What the run opens is released through one stack (src/runtime), newest first.
  await withResources(async (resources) => {
    // Ctrl-C stops the run (ingestion and queries), then the reranker is released; again exits at once.
    const controller = new AbortController();
    resources.defer(
      "signal handlers",
      handleShutdownSignals({
        name: "llm-twin eval",
        exitWhenDone: false,
        shutdown: () => controller.abort(new AppError("aborted", "interrupted")),
      }),
    );
    let reranker: Reranker | undefined;
    if (config.reranker !== undefined) {
      const { loadReranker } = await import("../../rag/service/reranker.js");
      reranker = resources.use(
        "reranker",
        await loadReranker(
          config.reranker,
          config.cacheDir,
          config.threads === undefined ? {} : { threads: config.threads },
        ),
      );
    }
    let ingestProgress: Progress | undefined;
    let queryProgress: Progress | undefined;
    let currentLabel = "";
    let plannedQueries = 0;
    const run = await runRetrievalEvaluation({
      dataset: config.dataset,
      split: config.split,
      ...(config.corpus === undefined ? {} : { corpus: config.corpus }),
      modes,
      ...(config.store === undefined ? {} : { store: config.store }),
      embedderSpec: config.embedder,
      embedderHttp: httpEmbedderOptions(config),
      ...fullTextOverrides(config),
      ...(config.cacheDir === undefined ? {} : { cacheDir: config.cacheDir }),
      ...(reranker === undefined ? {} : { reranker }),
      settings: {
        k: config.k,
        depth: config.depth,
        hybridFusion: config.fusion,
        hybridDenseWeight: config.denseWeight,
        rrfK: config.rrfK,
        titleWeight: config.titleWeight,
        searchLimit: config.searchLimit,
        rerankCandidates: config.rerankCandidates,
      },
      ...(config.limitQueries === undefined ? {} : { limitQueries: config.limitQueries }),
      queryHalf: config.queries,
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
  });
}

function fullTextOverrides(config: EvalCommandConfig): { fullText?: { removeStopWords?: boolean; stem?: boolean } } {
  const fullText = {
    ...(config.stopWords === "store-default" ? {} : { removeStopWords: config.stopWords === "remove" }),
    ...(config.stem === "store-default" ? {} : { stem: config.stem === "on" }),
  };
  return Object.keys(fullText).length === 0 ? {} : { fullText };
}
