/**
 * `npm run bench -- qdrant-hybrid [--chunks N] [--queries N] [--json]`
 *
 * Why the Qdrant adapter fuses hybrid results client-side (docs/vector-stores.md): on the same
 * store and queries, compares
 *  - client-side: what the adapter does — one `/points/query/batch` (dense + sparse, ids only),
 *    the project's reciprocalRankFusion, one `/points` for the winners' payloads;
 *  - server-side: one `/points/query` with both prefetches and `{rrf: {k, weights}}` (Qdrant's
 *    weighted RRF, what the adapter sent before), payloads included;
 * for agreement of the top 5 with the project's fusion (the LanceDB adapter's meaning), round
 * trips, bytes on the wire and latency. The server is the in-process fake behind a loopback HTTP
 * server (no Qdrant can run here): latency is transport + JSON cost, not Qdrant's search cost.
 */
import { once } from "node:events";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { performance } from "node:perf_hooks";
import type { EmbeddedChunk } from "../../src/domain/index.js";
import { reciprocalRankFusion } from "../../src/vector-store/fusion.js";
import { createFakeQdrant } from "../../src/vector-store/qdrant/fake-qdrant.js";
import type { QdrantRequest } from "../../src/vector-store/qdrant/rest.js";
import { encodeQuery } from "../../src/vector-store/qdrant/sparse.js";
import { openQdrantStore } from "../../src/vector-store/qdrant/store.js";
import { seededRandom } from "../support/synthetic-vectors.js";

export const name = "qdrant-hybrid";
export const description =
  "Qdrant hybrid: client-side fusion vs Qdrant's weighted RRF (order agreement, bytes, latency)";

const DIMENSIONS = 64;
const WORDS =
  "retrieval pipeline vector embedding chunk model token query index search rerank prompt feature store dataset training evaluation latency batch cache".split(
    " ",
  );
const HYBRID = { denseWeight: 0.2, rrfK: 3, candidates: 40 };

function unit(random: () => number): Float32Array {
  const vector = Float32Array.from({ length: DIMENSIONS }, () => random() * 2 - 1);
  const norm = Math.hypot(...vector);
  return vector.map((value) => value / norm);
}

function uuid(index: number): string {
  const hex = index.toString(16).padStart(12, "0");
  return `00000000-0000-4000-8000-${hex}`;
}

function option(args: string[], flag: string, fallback: number): number {
  const at = args.indexOf(flag);
  return at >= 0 ? Number(args[at + 1]) : fallback;
}

export async function run(args: string[]): Promise<void> {
  const chunkCount = option(args, "--chunks", 2_000);
  const queryCount = option(args, "--queries", 200);
  const random = seededRandom(11);
  const fake = createFakeQdrant();
  let bytes = 0;
  let requests = 0;
  const server = createServer(async (request, response) => {
    const parts: Buffer[] = [];
    for await (const part of request) parts.push(part as Buffer);
    const text = Buffer.concat(parts).toString("utf8");
    const url = new URL(request.url ?? "/", "http://localhost");
    const answer = await fake.transport({
      method: request.method as QdrantRequest["method"],
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      ...(text.length === 0 ? {} : { body: JSON.parse(text) }),
    });
    const body = JSON.stringify(answer.body);
    bytes += text.length + body.length;
    requests++;
    response.writeHead(answer.status, { "content-type": "application/json" }).end(body);
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    const store = await openQdrantStore({ url: base });
    const chunks: EmbeddedChunk[] = Array.from({ length: chunkCount }, (_, index) => {
      const words = Array.from({ length: 120 }, () => WORDS[Math.floor(random() ** 2 * WORDS.length)]);
      return {
        id: uuid(index),
        documentId: uuid(1_000_000 + Math.floor(index / 4)),
        category: "articles",
        author: { id: "author", fullName: "Author" },
        platform: "bench",
        title: `chunk ${index}`,
        link: "",
        index: index % 4,
        text: words.join(" "),
        tokenCount: 120,
        vector: unit(random),
      };
    });
    await store.upsert(chunks);
    const queries = Array.from({ length: queryCount }, () => ({
      vector: unit(random),
      text: `${WORDS[Math.floor(random() * WORDS.length)]} ${WORDS[Math.floor(random() * WORDS.length)]}`,
    }));

    const measure = async (work: (query: (typeof queries)[number]) => Promise<string[]>) => {
      bytes = 0;
      requests = 0;
      const orders: string[][] = [];
      const started = performance.now();
      for (const query of queries) orders.push(await work(query));
      const elapsed = performance.now() - started;
      return {
        orders,
        msPerQuery: elapsed / queries.length,
        requestsPerQuery: requests / queries.length,
        bytesPerQuery: bytes / queries.length,
      };
    };
    const post = async (path: string, body: unknown) => {
      const response = await fetch(`${base}${path}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      });
      return ((await response.json()) as { result: unknown }).result;
    };
    const lists = async (query: (typeof queries)[number]) => {
      const dense = { query: Array.from(query.vector), using: "dense", limit: HYBRID.candidates };
      const sparse = { query: encodeQuery(query.text), using: "sparse", limit: HYBRID.candidates };
      const answers = (await post("/collections/embedded_articles/points/query/batch", {
        searches: [dense, sparse],
      })) as {
        points: { id: string }[];
      }[];
      return answers.map((answer) => answer.points.map((point) => String(point.id)));
    };

    const clientSide = await measure(async (query) =>
      (await store.search({ category: "articles", mode: "hybrid", ...query, limit: 5, hybrid: HYBRID })).map(
        (hit) => hit.chunk.id,
      ),
    );
    const serverSide = await measure(async (query) => {
      const result = (await post("/collections/embedded_articles/points/query", {
        prefetch: [
          { query: Array.from(query.vector), using: "dense", limit: HYBRID.candidates },
          { query: encodeQuery(query.text), using: "sparse", limit: HYBRID.candidates },
        ],
        query: { rrf: { k: HYBRID.rrfK, weights: [HYBRID.denseWeight, 1 - HYBRID.denseWeight] } },
        limit: 5,
        with_payload: true,
      })) as { points: { id: string }[] };
      return result.points.map((point) => String(point.id));
    });
    let clientAgrees = 0;
    let serverAgrees = 0;
    for (const [index, query] of queries.entries()) {
      const [dense = [], lexical = []] = await lists(query);
      const expected = reciprocalRankFusion(
        [
          { ids: dense, weight: HYBRID.denseWeight },
          { ids: lexical, weight: 1 - HYBRID.denseWeight },
        ],
        { k: HYBRID.rrfK },
      )
        .slice(0, 5)
        .map((entry) => entry.id);
      if (JSON.stringify(expected) === JSON.stringify(clientSide.orders[index])) clientAgrees++;
      if (JSON.stringify(expected) === JSON.stringify(serverSide.orders[index])) serverAgrees++;
    }
    const row = (label: string, figures: typeof clientSide, agrees: number) => ({
      method: label,
      top5SameAsProjectFusion: `${agrees}/${queries.length}`,
      requestsPerQuery: figures.requestsPerQuery,
      kbPerQuery: Math.round(figures.bytesPerQuery / 102.4) / 10,
      msPerQuery: Math.round(figures.msPerQuery * 100) / 100,
    });
    const rows = [
      row("client-side fusion (adapter)", clientSide, clientAgrees),
      row("Qdrant weighted RRF", serverSide, serverAgrees),
    ];
    if (args.includes("--json"))
      process.stdout.write(`${JSON.stringify({ chunks: chunkCount, queries: queryCount, hybrid: HYBRID, rows })}\n`);
    else {
      process.stdout.write(
        `${chunkCount} chunks × ${DIMENSIONS}-d, ${queryCount} queries, dense weight ${HYBRID.denseWeight}, k ${HYBRID.rrfK}\n`,
      );
      for (const each of rows) process.stdout.write(`${JSON.stringify(each)}\n`);
    }
  } finally {
    server.close();
  }
}
