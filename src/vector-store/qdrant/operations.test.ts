/** The Qdrant adapter's operations: version and schema guard, retries, errors, limits, URLs, signals. */
import { once } from "node:events";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it, vi } from "vitest";
import { AppError } from "../../errors/app-error.js";
import { axisVector, contractChunk } from "../contract.js";
import { fail } from "./fake-qdrant.js";
import { createFetchTransport, type QdrantRequest, retryAfterMs } from "./rest.js";
import { openQdrantStore } from "./store.js";
import { checkedFakeQdrant } from "./testing.js";

const URL = "http://fake-qdrant.invalid";

async function rejection(promise: Promise<unknown>): Promise<AppError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(AppError);
  return error as AppError;
}

describe("version and schema guard", () => {
  it("refuses a server older than 1.12 at open, naming the minimum", async () => {
    const old = checkedFakeQdrant({ version: "1.11.3" });
    const error = await rejection(openQdrantStore({ url: URL, transport: old.transport }));
    expect(error.code).toBe("configuration_error");
    expect(error.message).toContain("version 1.11.3");
    expect(error.message).toContain(">= 1.12.0");
    await expect(
      openQdrantStore({ url: URL, transport: checkedFakeQdrant({ version: "1.12.0" }).transport }),
    ).resolves.toBeDefined();
  });

  it("refuses an existing collection with another distance or without the idf sparse vector", async () => {
    for (const body of [
      { vectors: { dense: { size: 8, distance: "Dot" } }, sparse_vectors: { sparse: { modifier: "idf" } } },
      { vectors: { dense: { size: 8, distance: "Cosine" } }, sparse_vectors: { sparse: {} } },
    ]) {
      const fake = checkedFakeQdrant();
      await fake.transport({ method: "PUT", path: "/collections/embedded_articles", body });
      const store = await openQdrantStore({ url: URL, transport: fake.transport });
      const error = await rejection(
        store.search({ category: "articles", mode: "dense", vector: axisVector(0), limit: 1 }),
      );
      expect(error.code).toBe("configuration_error");
      expect(error.message).toContain("--recreate");
    }
  });

  it("creates the payload indexes an existing collection lacks", async () => {
    const fake = checkedFakeQdrant();
    await fake.transport({
      method: "PUT",
      path: "/collections/embedded_articles",
      body: { vectors: { dense: { size: 8, distance: "Cosine" } }, sparse_vectors: { sparse: { modifier: "idf" } } },
    });
    const store = await openQdrantStore({ url: URL, transport: fake.transport });
    expect(await store.count("articles")).toBe(0);
    const created = fake.requests.filter((request) => request.operation === "create_field_index");
    expect(created.map((request) => (request.body as { field_name: string }).field_name)).toEqual([
      "author_id",
      "document_id",
    ]);
    expect(await store.listAuthors()).toEqual([]);
  });
});

describe("failures, retries and limits", () => {
  const faulty = (
    answers: Record<string, (request: QdrantRequest, attempt: number) => ReturnType<typeof fail> | undefined>,
  ) => {
    const attempts = new Map<string, number>();
    return checkedFakeQdrant({
      intercept: (request) => {
        const key = `${request.method} ${request.path.replace(/^\/collections\/[^/]+/, "")}`;
        const attempt = (attempts.get(key) ?? 0) + 1;
        attempts.set(key, attempt);
        return answers[key]?.(request, attempt);
      },
    });
  };

  it("retries 429 and 503 with backoff, honouring Retry-After, then answers", async () => {
    const fake = faulty({
      "PUT /points": (_request, attempt) =>
        attempt === 1
          ? { ...fail(429, "Too many requests"), headers: { "retry-after": "0" } }
          : attempt === 2
            ? fail(503, "Service unavailable")
            : undefined,
    });
    const store = await openQdrantStore({ url: URL, transport: fake.transport, backoffMs: 1 });
    await store.upsert([contractChunk({ name: "retried" })]);
    expect(await store.count()).toBe(1);
    expect(retryAfterMs("2")).toBe(2000);
    expect(retryAfterMs(new Date(Date.now() + 60_000).toUTCString())).toBeGreaterThan(50_000);
    expect(retryAfterMs("soon")).toBeUndefined();
  });

  it("gives up after the configured retries with dependency_unavailable", async () => {
    const fake = faulty({ "POST /points/count": () => fail(503, "Service unavailable") });
    const store = await openQdrantStore({ url: URL, transport: fake.transport, backoffMs: 1, retries: 2 });
    await store.ensureCollections(8);
    const error = await rejection(store.count("articles"));
    expect(error.code).toBe("dependency_unavailable");
    expect(error.retryable).toBe(true);
  });

  it("maps 408 to timeout, 413 to payload_too_large, 401 and 403 (locked or not) to distinct messages", async () => {
    const cases: [ReturnType<typeof fail>, string, string][] = [
      [fail(408, "Timeout"), "timeout", "timed out"],
      [fail(413, "Payload too large"), "payload_too_large", "LLM_TWIN_QDRANT_MAX_REQUEST_BYTES"],
      [fail(401, "Must provide an API key"), "dependency_unavailable", "LLM_TWIN_QDRANT_API_KEY"],
      [fail(403, "Forbidden: Write operations are forbidden: storage is locked"), "dependency_unavailable", "locked"],
      [fail(403, "Forbidden: read-only key"), "dependency_unavailable", "write access"],
    ];
    for (const [response, code, text] of cases) {
      const fake = faulty({ "PUT /points": () => response });
      const store = await openQdrantStore({ url: URL, transport: fake.transport, backoffMs: 1 });
      const error = await rejection(store.upsert([contractChunk({ name: "refused" })]));
      expect(error.code).toBe(code);
      expect(error.message).toContain(text);
    }
  });

  it("splits upserts below the byte limit and refuses a single point above it", async () => {
    const fake = checkedFakeQdrant();
    const store = await openQdrantStore({ url: URL, transport: fake.transport, maxRequestBytes: 4096 });
    const chunks = Array.from({ length: 12 }, (_, position) =>
      contractChunk({ name: `sized-${position}`, text: `${"words ".repeat(60)}${position}` }),
    );
    await store.upsert(chunks);
    const upserts = fake.requests.filter((request) => request.operation === "upsert_points");
    expect(upserts.length).toBeGreaterThan(1);
    for (const request of upserts) expect(Buffer.byteLength(JSON.stringify(request.body))).toBeLessThanOrEqual(4096);
    expect(await store.count()).toBe(12);
    const huge = contractChunk({ name: "huge", text: "x".repeat(8000) });
    expect((await rejection(store.upsert([huge]))).code).toBe("payload_too_large");
  });

  it("passes the caller's AbortSignal to the request and sends Qdrant's server-side timeout", async () => {
    const controller = new AbortController();
    const seen: QdrantRequest[] = [];
    const fake = checkedFakeQdrant({
      intercept: (request) => {
        seen.push(request);
        if (request.path.endsWith("/points/query")) controller.abort(new Error("client went away"));
        return undefined;
      },
    });
    const store = await openQdrantStore({ url: URL, transport: fake.transport, timeoutMs: 5_000 });
    await store.upsert([contractChunk({ name: "one" })]);
    const error = await rejection(
      store.search({ category: "articles", mode: "dense", vector: axisVector(0), limit: 1, signal: controller.signal }),
    );
    expect(error.code).toBe("aborted");
    const query = seen.find((request) => request.path.endsWith("/points/query"));
    expect(query?.signal?.aborted).toBe(true);
    expect(query?.query?.timeout).toBe(5);
  });

  it("writes metadata with strong ordering and reads it with majority consistency", async () => {
    const seen: QdrantRequest[] = [];
    const fake = checkedFakeQdrant({ intercept: (request) => void seen.push(request) });
    const store = await openQdrantStore({ url: URL, transport: fake.transport });
    const metadata = {
      fingerprint: {
        hash: "h",
        preprocessingVersion: "1",
        embedder: { id: "e", dimensions: 8, maxInputTokens: 8 },
        parameters: {},
      },
      createdAt: "2026-01-01T00:00:00.000Z",
      updatedAt: "2026-01-01T00:00:00.000Z",
    };
    await store.writeMetadata(metadata);
    expect(await store.readMetadata()).toEqual(metadata);
    const write = seen.find((request) => request.method === "PUT" && request.path.includes("llm_twin_metadata/points"));
    const read = seen.find((request) => request.method === "POST" && request.path.endsWith("llm_twin_metadata/points"));
    expect(write?.query).toMatchObject({ wait: true, ordering: "strong" });
    expect(read?.query).toMatchObject({ consistency: "majority" });
  });
});

describe("URLs", () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it("keeps https on 443 (no forced 6333) and a path prefix", async () => {
    const urls: string[] = [];
    vi.spyOn(globalThis, "fetch").mockImplementation(async (input) => {
      urls.push(String(input));
      return new Response(JSON.stringify({ result: true }), { status: 200 });
    });
    await createFetchTransport({ url: "https://qdrant.example.com" })({ method: "GET", path: "/collections" });
    await createFetchTransport({ url: "https://proxy.example.com/qdrant/" })({
      method: "POST",
      path: "/collections/a/points/count",
      query: { timeout: 3 },
    });
    expect(urls).toEqual([
      "https://qdrant.example.com/collections",
      "https://proxy.example.com/qdrant/collections/a/points/count?timeout=3",
    ]);
  });

  it("talks HTTP to a server behind a path prefix, with the api-key header", async () => {
    const fake = checkedFakeQdrant();
    const keys: (string | undefined)[] = [];
    const server = createServer(async (request, response) => {
      keys.push(request.headers["api-key"] as string | undefined);
      const chunks: Buffer[] = [];
      for await (const chunk of request) chunks.push(chunk as Buffer);
      const url = new globalThis.URL(request.url ?? "/", "http://localhost");
      if (!url.pathname.startsWith("/qdrant/")) {
        response.writeHead(404).end();
        return;
      }
      const text = Buffer.concat(chunks).toString("utf8");
      const answer = await fake.transport({
        method: request.method as QdrantRequest["method"],
        path: url.pathname.slice("/qdrant".length),
        query: Object.fromEntries(url.searchParams),
        ...(text.length === 0 ? {} : { body: JSON.parse(text) }),
      });
      response.writeHead(answer.status, { "content-type": "application/json" }).end(JSON.stringify(answer.body));
    });
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    try {
      const { port } = server.address() as AddressInfo;
      const store = await openQdrantStore({ url: `http://127.0.0.1:${port}/qdrant`, apiKey: "k3y" });
      await store.upsert([contractChunk({ name: "over-http" })]);
      const hits = await store.search({
        category: "articles",
        mode: "hybrid",
        vector: axisVector(0),
        text: "pipelines",
        limit: 1,
      });
      expect(hits).toHaveLength(1);
      expect(new Set(keys)).toEqual(new Set(["k3y"]));
    } finally {
      server.close();
    }
  });
});
