/** `eval retrieval`'s configuration: zod schema, settings table (flag, variable, default, help) and parsing. */
import { z } from "zod";
import { type Setting, schemas, settingsError } from "../../config/settings.js";
import { STATIC_EMBEDDER_SPEC } from "../../embedding/default-model.js";
import { HTTP_EMBEDDER_SETTINGS } from "../../embedding/http/settings.js";
import { QUERY_HALVES } from "../../eval/retrieval/query-halves.js";
import { DEFAULT_EVAL_STORE_ROOT, DEFAULT_EVALUATION_SETTINGS } from "../../eval/retrieval/settings.js";
import { HYBRID_FUSIONS } from "../../vector-store/fusion.js";

const { positiveInteger, text, unit } = schemas;
const [embedderRequestTimeout, embedderRetries] = HTTP_EMBEDDER_SETTINGS;

const configSchema = z.object({
  dataset: text,
  split: text,
  corpus: text.optional(),
  mode: z.enum(["dense", "lexical", "hybrid", "all"], { error: "must be dense, lexical, hybrid or all" }),
  json: z.boolean(),
  k: positiveInteger,
  depth: positiveInteger,
  store: text.optional(),
  embedder: text,
  embedderRequestTimeoutMs: embedderRequestTimeout.schema,
  embedderRetries: embedderRetries.schema,
  reranker: text.optional(),
  rerankCandidates: positiveInteger,
  denseWeight: unit,
  rrfK: positiveInteger,
  titleWeight: z.coerce.number({ error: "must be a number" }).min(0, "must be >= 0"),
  fusion: z.enum(HYBRID_FUSIONS, { error: `must be ${HYBRID_FUSIONS.join(" or ")}` }),
  queries: z.enum(QUERY_HALVES, { error: `must be ${QUERY_HALVES.join(", ")}` }),
  searchLimit: positiveInteger,
  report: z.union([text, z.literal(false)]).optional(),
  limitQueries: positiveInteger.optional(),
  recreate: z.boolean(),
  cacheDir: text.optional(),
  threads: positiveInteger.optional(),
  progress: z.enum(["auto", "tty", "plain", "none"], { error: "must be auto, tty, plain or none" }),
  stopWords: z.enum(["store-default", "keep", "remove"], { error: "must be store-default, keep or remove" }),
  stem: z.enum(["store-default", "on", "off"], { error: "must be store-default, on or off" }),
});

export type EvalCommandConfig = z.infer<typeof configSchema>;

/** `eval retrieval`'s settings (src/config/settings.ts): flag, variable, default and help of each. */
export const EVAL_RETRIEVAL_SETTINGS: readonly Setting[] = [
  {
    key: "dataset",
    flag: "--dataset <path|llm-twin>",
    env: "LLM_TWIN_EVAL_DATASET",
    schema: configSchema.shape.dataset,
    required: true,
    help: 'a BEIR-layout folder (corpus, queries, qrels) or "llm-twin"',
  },
  {
    key: "split",
    flag: "--split <name>",
    env: "LLM_TWIN_EVAL_SPLIT",
    schema: configSchema.shape.split,
    default: "test",
    help: "the BEIR split: queries-<split>.jsonl and qrels/<split>.tsv",
  },
  {
    key: "corpus",
    flag: "--corpus <file>",
    env: "LLM_TWIN_EVAL_CORPUS",
    schema: configSchema.shape.corpus,
    default: "../shared/datasets/llm-twin/articles.json",
    help: 'the articles file of the "llm-twin" dataset',
  },
  {
    key: "mode",
    flag: "--mode <mode>",
    env: "LLM_TWIN_EVAL_MODE",
    schema: configSchema.shape.mode,
    default: "all",
    choices: ["dense", "lexical", "hybrid", "all"],
    help: "retrieval mode, or all three",
  },
  {
    key: "json",
    flag: "--json",
    env: "LLM_TWIN_EVAL_JSON",
    schema: configSchema.shape.json,
    defaultText: "off",
    help: "print the results as one JSON object on stdout",
  },
  {
    key: "k",
    flag: "--k <n>",
    env: "LLM_TWIN_EVAL_K",
    schema: configSchema.shape.k,
    default: String(DEFAULT_EVALUATION_SETTINGS.k),
    help: "cut-off of nDCG, recall and MRR",
  },
  {
    key: "depth",
    flag: "--depth <n>",
    env: "LLM_TWIN_EVAL_DEPTH",
    schema: configSchema.shape.depth,
    default: String(DEFAULT_EVALUATION_SETTINGS.depth),
    help: "documents kept per query (recall@depth)",
  },
  {
    key: "store",
    flag: "--store <uri>",
    env: "LLM_TWIN_EVAL_STORE",
    schema: configSchema.shape.store,
    defaultText: `lancedb:${DEFAULT_EVAL_STORE_ROOT}/<dataset name>`,
    help: "evaluation store: lancedb:<dir> or qdrant:<url>",
  },
  {
    key: "embedder",
    flag: "--embedder <spec>",
    env: "LLM_TWIN_EMBEDDER",
    schema: configSchema.shape.embedder,
    default: STATIC_EMBEDDER_SPEC,
    help: 'embedder used to ingest and to embed queries: "static" (default here, so that figures reproduce offline), "auto" or "gguf:<path|url|hf:...>"',
  },
  ...HTTP_EMBEDDER_SETTINGS,
  {
    key: "reranker",
    flag: "--reranker <gguf>",
    env: "LLM_TWIN_EVAL_RERANKER",
    schema: configSchema.shape.reranker,
    help: "also evaluate each mode followed by this GGUF reranker (path, URL or hf: URI)",
  },
  {
    key: "rerankCandidates",
    flag: "--rerank-candidates <n>",
    env: "LLM_TWIN_EVAL_RERANK_CANDIDATES",
    schema: configSchema.shape.rerankCandidates,
    default: String(DEFAULT_EVALUATION_SETTINGS.rerankCandidates),
    help: "candidates the reranker scores per query",
  },
  {
    key: "denseWeight",
    flag: "--dense-weight <x>",
    env: "LLM_TWIN_EVAL_DENSE_WEIGHT",
    schema: configSchema.shape.denseWeight,
    default: String(DEFAULT_EVALUATION_SETTINGS.hybridDenseWeight),
    help: "weight of the dense list in hybrid fusion, 0..1 (lexical gets 1 - x; with agreement fusion, its maximum; the service default)",
  },
  {
    key: "fusion",
    flag: "--fusion <method>",
    env: "LLM_TWIN_EVAL_FUSION",
    schema: configSchema.shape.fusion,
    default: DEFAULT_EVALUATION_SETTINGS.hybridFusion,
    choices: [...HYBRID_FUSIONS],
    help: "hybrid fusion: agreement (scores; dense weight scaled by the lists' agreement) or rrf (reciprocal ranks)",
  },
  {
    key: "queries",
    flag: "--queries <half>",
    env: "LLM_TWIN_EVAL_QUERIES",
    schema: configSchema.shape.queries,
    default: "all",
    choices: [...QUERY_HALVES],
    help: "all queries, or one fixed half of them (by a hash of the query id) to tune on one and report on the other",
  },
  {
    key: "titleWeight",
    flag: "--title-weight <w>",
    env: "LLM_TWIN_EVAL_TITLE_WEIGHT",
    schema: configSchema.shape.titleWeight,
    default: String(DEFAULT_EVALUATION_SETTINGS.titleWeight),
    help: "weight of query words found in a hit's title, added to its score (0 = off)",
  },
  {
    key: "rrfK",
    flag: "--rrf-k <n>",
    env: "LLM_TWIN_EVAL_RRF_K",
    schema: configSchema.shape.rrfK,
    default: String(DEFAULT_EVALUATION_SETTINGS.rrfK),
    help: "reciprocal-rank fusion constant (the service default)",
  },
  {
    key: "searchLimit",
    flag: "--search-limit <n>",
    env: "LLM_TWIN_EVAL_SEARCH_LIMIT",
    schema: configSchema.shape.searchLimit,
    default: String(DEFAULT_EVALUATION_SETTINGS.searchLimit),
    help: "chunks asked of the store per search",
  },
  {
    key: "report",
    flag: "--report <file.md>",
    env: "LLM_TWIN_EVAL_REPORT",
    schema: configSchema.shape.report,
    defaultText: `${DEFAULT_EVAL_STORE_ROOT}/<dataset>-<split>-report.md`,
    help: "Markdown report",
  },
  {
    key: "report",
    flag: "--no-report",
    env: "LLM_TWIN_EVAL_NO_REPORT",
    schema: configSchema.shape.report,
    defaultText: "off",
    help: "write no Markdown report",
  },
  {
    key: "limitQueries",
    flag: "--limit-queries <n>",
    env: "LLM_TWIN_EVAL_LIMIT_QUERIES",
    schema: configSchema.shape.limitQueries,
    defaultText: "all",
    help: "evaluate only the first n queries",
  },
  {
    key: "recreate",
    flag: "--recreate",
    env: "LLM_TWIN_EVAL_RECREATE",
    schema: configSchema.shape.recreate,
    defaultText: "off",
    help: "drop the evaluation store first",
  },
  {
    key: "cacheDir",
    flag: "--cache-dir <dir>",
    env: "LLM_TWIN_CACHE_DIR",
    schema: configSchema.shape.cacheDir,
    defaultText: "~/.cache/llm-twin",
    help: "word-vector cache and downloaded models",
  },
  {
    key: "threads",
    flag: "--threads <n>",
    env: "LLM_TWIN_THREADS",
    schema: configSchema.shape.threads,
    defaultText: "every core",
    help: "llama.cpp threads of the reranker",
  },
  {
    key: "stopWords",
    flag: "--stop-words <policy>",
    env: "LLM_TWIN_EVAL_STOP_WORDS",
    schema: configSchema.shape.stopWords,
    default: "store-default",
    choices: ["store-default", "keep", "remove"],
    help: "full-text index (LanceDB): keep or remove English stop words",
  },
  {
    key: "stem",
    flag: "--stem <on|off>",
    env: "LLM_TWIN_EVAL_STEM",
    schema: configSchema.shape.stem,
    default: "store-default",
    choices: ["store-default", "on", "off"],
    help: "full-text index (LanceDB): English stemming",
  },
  {
    key: "progress",
    flag: "--progress <style>",
    env: "LLM_TWIN_EVAL_PROGRESS",
    schema: configSchema.shape.progress,
    default: "auto",
    choices: ["auto", "tty", "plain", "none"],
    help: "progress display on stderr",
  },
];

export function parseEvalConfig(raw: Record<string, unknown>): EvalCommandConfig {
  const input = { ...raw, json: raw.json === true, recreate: raw.recreate === true };
  const parsed = configSchema.safeParse(input);
  if (!parsed.success) throw settingsError(EVAL_RETRIEVAL_SETTINGS, parsed.error.issues, raw);
  return parsed.data;
}
