/**
 * `npm run bench -- retrieval [--json] [--dataset <beir folder>] [--split train] [--limit-queries N]
 *   [--dense-weight x] [--rrf-k n] [--search-limit n] [--stop-words keep|remove]`
 * Retrieval quality and per-query latency of the three modes (lexical, dense with the static
 * embedder, hybrid) on SciFact train (809 queries) through the RAG service's retrieve code, next to
 * the BEIR paper's SciFact figures. The store is ./.llm-twin/eval/<dataset> (ingested on first use).
 */
import { evaluationJson, formatEvaluationTable, runRetrievalEvaluation } from "../../src/eval/index.js";
import { SHARED_DATASETS_MISSING, sharedDatasetPath } from "../../src/testing/shared-datasets.js";

export const name = "retrieval";
export const description = "retrieval quality (nDCG@10, recall, MRR) and latency per mode on SciFact train";

function option(args: string[], flag: string): string | undefined {
  const position = args.indexOf(flag);
  return position === -1 ? undefined : args[position + 1];
}

const numberOption = (args: string[], flag: string): number | undefined => {
  const value = option(args, flag);
  return value === undefined ? undefined : Number(value);
};

export async function run(args: string[]): Promise<void> {
  process.env.LANCEDB_LOG ??= "error";
  const dataset = option(args, "--dataset") ?? sharedDatasetPath("scifact");
  if (dataset === undefined) {
    process.stderr.write(`${SHARED_DATASETS_MISSING}\n`);
    return;
  }
  const limitQueries = numberOption(args, "--limit-queries");
  const denseWeight = numberOption(args, "--dense-weight");
  const rrfK = numberOption(args, "--rrf-k");
  const searchLimit = numberOption(args, "--search-limit");
  const stopWords = option(args, "--stop-words");
  const result = await runRetrievalEvaluation({
    dataset,
    split: option(args, "--split") ?? "train",
    modes: ["lexical", "dense", "hybrid"],
    ...(stopWords === undefined ? {} : { fullText: { removeStopWords: stopWords === "remove" } }),
    settings: {
      ...(denseWeight === undefined ? {} : { hybridDenseWeight: denseWeight }),
      ...(rrfK === undefined ? {} : { rrfK }),
      ...(searchLimit === undefined ? {} : { searchLimit }),
    },
    ...(limitQueries === undefined ? {} : { limitQueries }),
    onQueryProgress: ({ label, completed, total }) => {
      if (completed === total || completed % 200 === 0) process.stderr.write(`${label}: ${completed}/${total}\n`);
    },
  });
  if (args.includes("--json")) {
    process.stdout.write(`${JSON.stringify(evaluationJson(result))}\n`);
    return;
  }
  process.stdout.write(`${formatEvaluationTable(result)}\n`);
  process.stdout.write(
    "BEIR paper, SciFact test split, nDCG@10: BM25 0.665, BM25 + cross-encoder rerank 0.688 (tune/compare on train only)\n",
  );
}
