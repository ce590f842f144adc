/**
 * `npm run bench -- lexical-variants [--dataset llm-twin|scifact] [--limit-queries N]`
 * Offline ways to help lexical search (BM25) on questions that say things in other words,
 * measured against plain BM25 on the evaluation store (ingested on first use, as `eval retrieval`):
 * - pseudo-relevance feedback: the 5 best terms (tf × idf over the whole store) of the 5 first
 *   hits appended to the query, which is kept twice;
 * - query expansion from the corpus itself: each query word's nearest words of the corpus
 *   vocabulary (static word vectors, cosine ≥ threshold) appended;
 * - field weighting of titles: the service's title boost (src/rag/steps/title-boost.ts).
 * nDCG@10 and source-in-top-5 overall, per half (src/eval/retrieval/query-halves.ts) and over the
 * paraphrase subset. No author filter, articles only.
 */
import { createEmbedder, type Embedder } from "../../src/embedding/index.js";
import { ENGLISH_STOPWORDS } from "../../src/embedding/static/stopwords.js";
import { type EvaluationQuery, loadEvaluationDataset, ndcgAtK } from "../../src/eval/index.js";
import { ingestEvaluationCorpus } from "../../src/eval/retrieval/prepare-store.js";
import { queryHalfOf } from "../../src/eval/retrieval/query-halves.js";
import { defaultEvalStoreUri } from "../../src/eval/retrieval/run.js";
import { cleanQuery } from "../../src/preprocessing/query.js";
import { boostTitleMatches } from "../../src/rag/steps/title-boost.js";
import { SHARED_DATASETS_MISSING, sharedDatasetPath } from "../../src/testing/shared-datasets.js";
import { openVectorStore, type SearchHit, type VectorStore } from "../../src/vector-store/index.js";

export const name = "lexical-variants";
export const description = "BM25 vs pseudo-relevance feedback, corpus query expansion, title weighting";

const option = (args: string[], flag: string) => {
  const position = args.indexOf(flag);
  return position === -1 ? undefined : args[position + 1];
};
const words = (text: string) =>
  (text.toLowerCase().match(/[a-z][a-z0-9]+/g) ?? []).filter((word) => word.length > 2 && !ENGLISH_STOPWORDS.has(word));

type Search = (text: string) => Promise<SearchHit[]>;

async function corpusStatistics(store: VectorStore) {
  const all = await store.search({
    category: "articles",
    mode: "lexical",
    text: "the a of and to in is",
    limit: 1_000_000,
  });
  const documentFrequency = new Map<string, number>();
  for (const hit of all)
    for (const word of new Set(words(hit.chunk.text)))
      documentFrequency.set(word, (documentFrequency.get(word) ?? 0) + 1);
  return { chunks: all.length, documentFrequency };
}

function variants(store: VectorStore, embedder: Embedder, stats: Awaited<ReturnType<typeof corpusStatistics>>) {
  const lexical: Search = (text) => store.search({ category: "articles", mode: "lexical", text, limit: 100 });
  const idf = (word: string) => Math.log((stats.chunks + 1) / ((stats.documentFrequency.get(word) ?? 0) + 0.5));
  const vocabulary = [...stats.documentFrequency.entries()].filter(([, count]) => count >= 2).map(([word]) => word);
  let vocabularyVectors: Float32Array[] | undefined;
  const nearest = async (text: string, perWord: number, threshold: number) => {
    vocabularyVectors ??= await embedder.embed(vocabulary);
    const queryWords = [...new Set(words(text))];
    const extra: string[] = [];
    for (const [index, vector] of (await embedder.embed(queryWords)).entries()) {
      const scored: [string, number][] = [];
      vocabularyVectors.forEach((candidate, position) => {
        let dot = 0;
        for (let dimension = 0; dimension < candidate.length; dimension += 1)
          dot += (candidate[dimension] ?? 0) * (vector[dimension] ?? 0);
        const word = vocabulary[position] as string;
        if (dot >= threshold && word !== queryWords[index]) scored.push([word, dot]);
      });
      extra.push(
        ...scored
          .sort((left, right) => right[1] - left[1])
          .slice(0, perWord)
          .map(([word]) => word),
      );
    }
    return extra;
  };
  const feedback: Search = async (text) => {
    const first = await lexical(text);
    const queryWords = new Set(words(text));
    const scores = new Map<string, number>();
    for (const hit of first.slice(0, 5)) {
      const chunkWords = words(hit.chunk.text);
      for (const word of chunkWords)
        if (!queryWords.has(word)) scores.set(word, (scores.get(word) ?? 0) + idf(word) / chunkWords.length);
    }
    const terms = [...scores.entries()]
      .sort((left, right) => right[1] - left[1])
      .slice(0, 5)
      .map(([word]) => word);
    return lexical(`${text} ${text} ${terms.join(" ")}`);
  };
  return {
    BM25: lexical,
    "BM25 + feedback (5 hits, 5 terms)": feedback,
    "BM25 + corpus expansion (1 word, cos >= 0.7)": async (text: string) =>
      lexical(`${text} ${(await nearest(text, 1, 0.7)).join(" ")}`),
    "BM25 + corpus expansion (3 words, cos >= 0.6)": async (text: string) =>
      lexical(`${text} ${(await nearest(text, 3, 0.6)).join(" ")}`),
    "BM25 + title weight 0.2": async (text: string) => boostTitleMatches(await lexical(text), text, 0.2),
    "BM25 + title weight 0.5": async (text: string) => boostTitleMatches(await lexical(text), text, 0.5),
  } satisfies Record<string, Search>;
}

const mean = (values: number[]) =>
  values.length === 0 ? Number.NaN : values.reduce((sum, value) => sum + value, 0) / values.length;

export async function run(args: string[]): Promise<void> {
  process.env.LANCEDB_LOG ??= "error";
  const which = option(args, "--dataset") ?? "llm-twin";
  const corpus = sharedDatasetPath("llm-twin", "articles.json");
  const beir = which === "llm-twin" ? undefined : (sharedDatasetPath(which) ?? which);
  if (corpus === undefined && beir === undefined) {
    process.stderr.write(`${SHARED_DATASETS_MISSING}\n`);
    return;
  }
  const dataset = await loadEvaluationDataset(beir ?? "llm-twin", {
    split: "train",
    ...(corpus === undefined ? {} : { corpus }),
  });
  const limit = Number(option(args, "--limit-queries") ?? Number.POSITIVE_INFINITY);
  const queries: EvaluationQuery[] = dataset.queries.slice(0, limit);
  const embedder = await createEmbedder("static");
  const store = await openVectorStore(defaultEvalStoreUri(dataset.name));
  try {
    await ingestEvaluationCorpus(dataset, store, embedder);
    const stats = await corpusStatistics(store);
    process.stdout.write(`${dataset.name}: ${queries.length} queries, ${stats.chunks} chunks\n`);
    process.stdout.write(
      "variant                                         nDCG@10  tune    held-out  top-5   paraphrases nDCG / top-5\n",
    );
    for (const [label, search] of Object.entries(variants(store, embedder, stats))) {
      const rows: { ndcg: number; top5: number; half: string; paraphrase: boolean }[] = [];
      for (const query of queries) {
        const hits = await search(cleanQuery(query.text) || query.text);
        const documents = [...new Set(hits.map((hit) => hit.chunk.documentId))];
        rows.push({
          ndcg: ndcgAtK(documents, query.judgments, 10),
          top5: documents.slice(0, 5).some((document) => query.judgments.has(document)) ? 1 : 0,
          half: queryHalfOf(query.id),
          paraphrase: query.tags?.includes("paraphrase") === true,
        });
      }
      const of = (keep: (row: (typeof rows)[number]) => boolean, field: "ndcg" | "top5") =>
        mean(rows.filter(keep).map((row) => row[field])).toFixed(4);
      const paraphrases = rows.some((row) => row.paraphrase)
        ? `${of((row) => row.paraphrase, "ndcg")} / ${of((row) => row.paraphrase, "top5")}`
        : "-";
      process.stdout.write(
        `${label.padEnd(47)} ${of(() => true, "ndcg")}   ${of((row) => row.half === "tune", "ndcg")}  ${of((row) => row.half === "held-out", "ndcg")}    ${of(() => true, "top5")}  ${paraphrases}\n`,
      );
    }
  } finally {
    await store[Symbol.asyncDispose]();
    await embedder[Symbol.asyncDispose]();
  }
}
