/**
 * `npm run bench -- vs-langchain [--json] [--rounds N] [--k N] [--modes dense,hybrid] [--embedder spec] [--profile]`
 *
 * The same retrieval work through the project and through LangChain.js, on the LLM Twin corpus:
 * the articles ingested by the project (static embedder, LanceDB), the same chunks and vectors
 * written to `@langchain/community`'s LanceDB store (the project's embedder wrapped as a LangChain
 * `Embeddings`), then the LLM Twin questions (every other one filtered to the author of its
 * source article) answered by
 *   - the project: `retrieve()` as the RAG service calls it (default categories, no expansion or
 *     self-query, `k` sources, the store-side dense or hybrid search);
 *   - LangChain.js: the store's retriever (dense) or an `EnsembleRetriever` of `BM25Retriever` and
 *     that retriever (hybrid, same weights, RRF constant and candidates per side), filtered on its
 *     side too (see bench/support/langchain-side.ts).
 * Rounds alternate which side goes first; after a warm-up round each side's queries/s is its
 * queries over its own time. overlap@k = shared chunk ids in the two top-k lists / k, on average;
 * hit@k = questions whose source article is in the top k. `--profile` adds the median time of
 * one dense query in several shapes on the project's table (bench/support/lancedb-query-profile.ts).
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import type { BaseRetriever } from "@langchain/core/retrievers";
import { createEmbedder } from "../../src/embedding/index.js";
import { readLlmTwinQuestions } from "../../src/eval/retrieval/datasets.js";
import { ingest } from "../../src/ingestion/index.js";
import { createAuthorsCache } from "../../src/rag/authors-cache.js";
import { resolveRagConfig } from "../../src/rag/config.js";
import { type RagDependencies, retrieve } from "../../src/rag/retrieve.js";
import { SHARED_DATASETS_MISSING, sharedDatasetPath } from "../../src/testing/shared-datasets.js";
import { openVectorStore } from "../../src/vector-store/index.js";
import type { LangChainChunk } from "../support/langchain-side.js";

export const name = "vs-langchain";
export const description = "retrieve() vs LangChain.js (LanceDB store, EnsembleRetriever) on the LLM Twin corpus";

type Mode = "dense" | "hybrid";
type Query = { text: string; authorId: string | undefined; documentIds: Set<string> };
type Side = (query: Query) => Promise<{ chunkId: string; documentId: string }[]>;
type SideResult = { seconds: number; queries: number; lastTop: { chunkId: string; documentId: string }[][] };

function option(args: string[], flag: string): string | undefined {
  const position = args.indexOf(flag);
  return position === -1 ? undefined : args[position + 1];
}

async function runSide(side: Side, queries: readonly Query[], result: SideResult): Promise<void> {
  const top: SideResult["lastTop"] = [];
  const started = performance.now();
  for (const query of queries) top.push(await side(query));
  result.seconds += (performance.now() - started) / 1000;
  result.queries += queries.length;
  result.lastTop = top;
}

async function compare(project: Side, langchain: Side, queries: readonly Query[], rounds: number, k: number) {
  const results = {
    project: { seconds: 0, queries: 0, lastTop: [] } as SideResult,
    langchain: { seconds: 0, queries: 0, lastTop: [] } as SideResult,
  };
  const warmUp = { seconds: 0, queries: 0, lastTop: [] };
  await runSide(project, queries, warmUp);
  await runSide(langchain, queries, warmUp);
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? (["project", "langchain"] as const) : (["langchain", "project"] as const);
    for (const which of order) await runSide(which === "project" ? project : langchain, queries, results[which]);
  }
  let overlap = 0;
  const hits = { project: 0, langchain: 0 };
  queries.forEach((query, index) => {
    const mine = (results.project.lastTop[index] ?? []).slice(0, k);
    const theirs = (results.langchain.lastTop[index] ?? []).slice(0, k);
    const theirIds = new Set(theirs.map((hit) => hit.chunkId));
    overlap += mine.filter((hit) => theirIds.has(hit.chunkId)).length / k;
    if (mine.some((hit) => query.documentIds.has(hit.documentId))) hits.project++;
    if (theirs.some((hit) => query.documentIds.has(hit.documentId))) hits.langchain++;
  });
  const qps = (side: SideResult) => side.queries / side.seconds;
  return {
    projectQps: qps(results.project),
    langchainQps: qps(results.langchain),
    ratio: qps(results.project) / qps(results.langchain),
    overlapAtK: overlap / queries.length,
    hitAtK: { project: hits.project / queries.length, langchain: hits.langchain / queries.length },
  };
}

export async function run(args: string[]): Promise<void> {
  const articles = sharedDatasetPath("llm-twin", "articles.json");
  if (articles === undefined) {
    process.stderr.write(`vs-langchain bench ${SHARED_DATASETS_MISSING}\n`);
    return;
  }
  process.env.LANCEDB_LOG ??= "error";
  // Loaded here, not at import: `npm run bench` imports every suite, and LanceDB reads
  // LANCEDB_LOG when its native module loads.
  const lancedb = await import("@lancedb/lancedb");
  const { createLangChainSide } = await import("../support/langchain-side.js");
  const { profileLanceDbQueries } = await import("../support/lancedb-query-profile.js");
  const rounds = Number(option(args, "--rounds") ?? "10");
  const k = Number(option(args, "--k") ?? "5");
  const modes = (option(args, "--modes") ?? "dense,hybrid").split(",") as Mode[];
  const embedderSpec = option(args, "--embedder") ?? "static";
  const directory = await mkdtemp(join(tmpdir(), "llm-twin-bench-vs-langchain-"));
  const embedder = await createEmbedder(embedderSpec);
  try {
    const storeDirectory = join(directory, "project");
    const store = await openVectorStore(`lancedb:${storeDirectory}`);
    const summary = await ingest({ source: articles, store, embedder });
    // The same chunks and vectors, read back from the project's table, for LangChain's table.
    const connection = await lancedb.connect(storeDirectory);
    const rows = (await (
      await connection.openTable("embedded_articles")
    )
      .query()
      .select(["id", "document_id", "author_id", "title", "text", "vector"])
      .toArray()) as {
      id: string;
      document_id: string;
      author_id: string;
      title: string;
      text: string;
      vector: Iterable<number>;
    }[];
    connection.close();
    const chunks: LangChainChunk[] = rows.map((row) => ({
      id: row.id,
      documentId: row.document_id,
      authorId: row.author_id,
      title: row.title,
      text: row.text,
      vector: Float32Array.from(row.vector),
    }));
    const baseConfig = { k, expandQueries: 1, selfQuery: "off" as const };
    const langchain = await createLangChainSide({
      directory: join(directory, "langchain"),
      embedder,
      chunks,
      k,
      hybridCandidates: Math.max(resolveRagConfig().searchLimit * 4, 40),
      denseWeight: resolveRagConfig().hybridDenseWeight,
      rrfK: resolveRagConfig().rrfK,
    });

    const authorOfDocument = new Map(chunks.map((chunk) => [chunk.documentId, chunk.authorId]));
    const queries: Query[] = readLlmTwinQuestions().map((question, index) => {
      const documentIds = [...question.judgments.keys()];
      return {
        text: question.text,
        authorId: index % 2 === 1 ? authorOfDocument.get(documentIds[0] ?? "") : undefined,
        documentIds: new Set(documentIds),
      };
    });

    const report: Record<string, unknown> = {
      corpus: { documents: summary.documentsRead, chunks: chunks.length },
      queries: queries.length,
      filtered: queries.filter((query) => query.authorId !== undefined).length,
      rounds,
      k,
      embedder: embedder.id,
    };
    for (const mode of modes) {
      const config = resolveRagConfig({ ...baseConfig, retrievalMode: mode });
      const deps: RagDependencies = { store, embedder, config, listAuthors: createAuthorsCache(store, 30_000) };
      const project: Side = async (query) => {
        const result = await retrieve(
          { query: query.text, k, ...(query.authorId === undefined ? {} : { author: query.authorId }) },
          deps,
        );
        return result.sources.map((source) => ({ chunkId: source.id, documentId: source.documentId }));
      };
      const retrievers = new Map<string | undefined, BaseRetriever>();
      const theirs: Side = async (query) => {
        let retriever = retrievers.get(query.authorId);
        if (retriever === undefined) {
          retriever = langchain.retriever(mode, query.authorId);
          retrievers.set(query.authorId, retriever);
        }
        const documents = await retriever.invoke(query.text);
        return documents.slice(0, k).map((document) => ({
          chunkId: String(document.metadata.id),
          documentId: String(document.metadata.document_id),
        }));
      };
      report[mode] = await compare(project, theirs, queries, rounds, k);
    }
    if (args.includes("--profile")) {
      const [vector] = await embedder.embed(["How do I fine-tune Llama 3.1 efficiently with Unsloth?"]);
      report.profile = await profileLanceDbQueries(storeDirectory, vector as Float32Array, chunks[0]?.authorId ?? "");
    }
    await store[Symbol.asyncDispose]();
    if (args.includes("--json")) {
      process.stdout.write(`${JSON.stringify(report)}\n`);
      return;
    }
    const lines = [
      `LLM Twin corpus: ${summary.documentsRead} articles, ${chunks.length} chunks; ${queries.length} questions (${String(report.filtered)} filtered by author), ${rounds} rounds after a warm-up, k ${k}, embedder ${embedder.id}`,
      "",
      "| mode | project q/s | LangChain.js q/s | ratio | overlap@k | hit@k project | hit@k LangChain.js |",
      "|---|---|---|---|---|---|---|",
      ...modes.map((mode) => {
        const row = report[mode] as Awaited<ReturnType<typeof compare>>;
        return `| ${mode} | ${row.projectQps.toFixed(0)} | ${row.langchainQps.toFixed(0)} | ${row.ratio.toFixed(2)}× | ${row.overlapAtK.toFixed(2)} | ${row.hitAtK.project.toFixed(2)} | ${row.hitAtK.langchain.toFixed(2)} |`;
      }),
    ];
    if (report.profile !== undefined) {
      lines.push("", "| one dense query on the project's table (k 10) | median ms |", "|---|---|");
      for (const { shape, medianMs } of report.profile as { shape: string; medianMs: number }[]) {
        lines.push(`| ${shape} | ${medianMs.toFixed(3)} |`);
      }
    }
    process.stdout.write(`${lines.join("\n")}\n`);
  } finally {
    await embedder[Symbol.asyncDispose]();
    await rm(directory, { recursive: true, force: true });
  }
}
