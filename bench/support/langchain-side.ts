/**
 * The LangChain.js side of `npm run bench -- vs-langchain`: the project's embedder behind
 * LangChain's `Embeddings`, `@langchain/community`'s LanceDB store over a table with the project's
 * chunks and vectors, and the retrievers a LangChain.js user would build (the store's retriever for
 * dense search, `EnsembleRetriever` of `BM25Retriever` + that retriever for hybrid).
 *
 * Filtering, fairly: LangChain's LanceDB store drops the filter of `similaritySearch` (it overrides
 * the base method and never passes it on), so a subclass passes it to the same LanceDB query as a
 * `where` clause; `BM25Retriever` has no filter at all, so it gets one retriever per author over
 * that author's documents only (built before timing starts).
 */
import { connect, type Table } from "@lancedb/lancedb";
import { EnsembleRetriever } from "@langchain/classic/retrievers/ensemble";
import { BM25Retriever } from "@langchain/community/retrievers/bm25";
import { LanceDB } from "@langchain/community/vectorstores/lancedb";
import { Document } from "@langchain/core/documents";
import { Embeddings } from "@langchain/core/embeddings";
import type { BaseRetriever } from "@langchain/core/retrievers";
import type { Embedder } from "../../src/embedding/index.js";
import { cleanQuery } from "../../src/preprocessing/index.js";

/** The project's embedder as a LangChain `Embeddings`; queries get the project's query cleaning. */
export class ProjectEmbeddings extends Embeddings {
  readonly #embedder: Embedder;

  constructor(embedder: Embedder) {
    super({});
    this.#embedder = embedder;
  }

  async embedDocuments(texts: string[]): Promise<number[][]> {
    return (await this.#embedder.embed(texts)).map((vector) => Array.from(vector));
  }

  async embedQuery(text: string): Promise<number[]> {
    const cleaned = cleanQuery(text);
    const [vector] = await this.#embedder.embed([cleaned === "" ? text : cleaned]);
    return Array.from(vector ?? []);
  }
}

type Scored = [Document, number];

/**
 * LangChain's LanceDB store with the filter passed on to LanceDB (its own methods drop it). The
 * parent keeps its table private, so filtered queries go through a handle on the same table
 * opened the way the parent opens it (`connect(uri)` with default options).
 */
class FilteringLanceDB extends LanceDB {
  filterTable: Table | undefined;
  override async similaritySearch(query: string, k = 4, filter?: string): Promise<Document[]> {
    const scored = await this.similaritySearchVectorWithScore(await this.embeddings.embedQuery(query), k, filter);
    return scored.map(([document]) => document);
  }

  override async similaritySearchVectorWithScore(query: number[], k: number, filter?: string): Promise<Scored[]> {
    if (filter === undefined) return super.similaritySearchVectorWithScore(query, k);
    if (this.filterTable === undefined) throw new Error("Table not found. Please add vectors to the table first.");
    // The parent's query (all columns, default distance), plus the where clause it leaves out.
    const rows = (await this.filterTable.query().nearestTo(query).where(filter).limit(k).toArray()) as Record<
      string,
      unknown
    >[];
    return rows.map((row) => {
      const metadata: Record<string, unknown> = {};
      for (const key of Object.keys(row))
        if (key !== "vector" && key !== "score" && key !== "text") metadata[key] = row[key];
      return [new Document({ pageContent: String(row.text), metadata }), Number(row.score)];
    });
  }
}

export type LangChainChunk = {
  id: string;
  documentId: string;
  authorId: string;
  title: string;
  text: string;
  vector: Float32Array;
};

export type LangChainSide = {
  /** The retriever for a query, filtered to `authorId` when given. */
  retriever(mode: "dense" | "hybrid", authorId: string | undefined): BaseRetriever;
};

export type LangChainSideOptions = {
  directory: string;
  embedder: Embedder;
  chunks: readonly LangChainChunk[];
  /** Documents each retriever returns (the final k for dense; candidates per side for hybrid). */
  k: number;
  hybridCandidates: number;
  /** Weight of the dense retriever in the ensemble (BM25 gets the rest) and the RRF constant. */
  denseWeight: number;
  rrfK: number;
};

/** Writes the chunks into LangChain's LanceDB table and builds the retrievers. */
export async function createLangChainSide(options: LangChainSideOptions): Promise<LangChainSide> {
  const embeddings = new ProjectEmbeddings(options.embedder);
  const documents = options.chunks.map(
    (chunk) =>
      new Document({
        pageContent: chunk.text,
        metadata: { id: chunk.id, document_id: chunk.documentId, author_id: chunk.authorId, title: chunk.title },
      }),
  );
  const store = new FilteringLanceDB(embeddings, { uri: options.directory, tableName: "langchain" });
  await store.addVectors(
    options.chunks.map((chunk) => Array.from(chunk.vector)),
    documents,
  );
  store.filterTable = await (await connect(options.directory)).openTable("langchain");
  const authors = [...new Set(options.chunks.map((chunk) => chunk.authorId))];
  const bm25 = new Map<string | undefined, BM25Retriever>([
    [undefined, BM25Retriever.fromDocuments(documents, { k: options.hybridCandidates })],
    ...authors.map(
      (author) =>
        [
          author,
          BM25Retriever.fromDocuments(
            documents.filter((document) => document.metadata.author_id === author),
            { k: options.hybridCandidates },
          ),
        ] as const,
    ),
  ]);
  const filterOf = (authorId: string | undefined) =>
    authorId === undefined ? {} : { filter: `author_id = '${authorId.replaceAll("'", "''")}'` };
  return {
    retriever(mode, authorId) {
      if (mode === "dense") return store.asRetriever({ k: options.k, ...filterOf(authorId) });
      const lexical = bm25.get(authorId);
      if (lexical === undefined) throw new Error(`no BM25 retriever for author ${authorId}`);
      return new EnsembleRetriever({
        retrievers: [lexical, store.asRetriever({ k: options.hybridCandidates, ...filterOf(authorId) })],
        weights: [1 - options.denseWeight, options.denseWeight],
        c: options.rrfK,
      });
    },
  };
}
