/** The fake answers like Qdrant 1.18: schema-checked requests, the server's errors, its fusion formula. */
import { describe, expect, it } from "vitest";
import { contractId } from "../contract.js";
import type { QdrantRequest, QdrantResponse } from "./rest.js";
import { checkedFakeQdrant, qdrantOpenApi } from "./testing.js";

const SPEC_MISSING = qdrantOpenApi() === undefined;

async function setUp() {
  const fake = checkedFakeQdrant();
  const send = (request: QdrantRequest): Promise<QdrantResponse> => fake.transport(request);
  await send({
    method: "PUT",
    path: "/collections/c",
    body: { vectors: { dense: { size: 2, distance: "Cosine" } }, sparse_vectors: { sparse: { modifier: "idf" } } },
  });
  const points = ["a", "b", "c", "d"].map((name, position) => ({
    id: contractId(name),
    vector: { dense: [1, position / 4], sparse: { indices: [position], values: [1] } },
    payload: { name, author_id: position % 2 === 0 ? "even" : "odd", text: `text ${name}` },
  }));
  expect(
    (await send({ method: "PUT", path: "/collections/c/points", query: { wait: true }, body: { points } })).status,
  ).toBe(200);
  return { fake, send };
}

const errorOf = (response: QdrantResponse) => (response.body as { status?: { error?: string } }).status?.error ?? "";

describe.skipIf(SPEC_MISSING)("fake Qdrant: requests the server would refuse", () => {
  it("refuses rrf.k of 0 or 2.5, non-UUID ids and unknown fields with 400", async () => {
    const { send } = await setUp();
    for (const k of [0, 2.5]) {
      const response = await send({
        method: "POST",
        path: "/collections/c/points/query",
        body: { prefetch: [{ query: [1, 0], using: "dense" }], query: { rrf: { k } }, limit: 2 },
      });
      expect(response.status).toBe(400);
      expect(errorOf(response)).toContain("/query/rrf/k");
    }
    const badId = await send({
      method: "PUT",
      path: "/collections/c/points",
      body: { points: [{ id: "not-a-uuid", vector: { dense: [1, 0] } }] },
    });
    expect(badId.status).toBe(400);
    const badQuery = await send({
      method: "POST",
      path: "/collections/c/points/query",
      query: { wait: "yes" },
      body: {},
    });
    expect(badQuery.status).toBe(400);
  });

  it("refuses unknown vector names and wrong dimensions with the server's messages", async () => {
    const { send } = await setUp();
    const unknown = await send({
      method: "POST",
      path: "/collections/c/points/query",
      body: { query: [1, 0], using: "dense_v2", limit: 2 },
    });
    expect(unknown.status).toBe(400);
    expect(errorOf(unknown)).toBe("Wrong input: Not existing vector name error: dense_v2");
    const wrong = await send({
      method: "POST",
      path: "/collections/c/points/query",
      body: { query: [1, 0, 0], using: "dense" },
    });
    expect(wrong.status).toBe(400);
    expect(errorOf(wrong)).toBe("Wrong input: Vector dimension error: expected dim: 2, got 3");
  });

  it("answers 404 for a missing collection and refuses facets without a keyword index", async () => {
    const { send } = await setUp();
    const missing = await send({ method: "POST", path: "/collections/nope/points/count", body: {} });
    expect(missing.status).toBe(404);
    expect(errorOf(missing)).toContain("Collection `nope` doesn't exist");
    const facet = await send({ method: "POST", path: "/collections/c/facet", body: { key: "author_id" } });
    expect(facet.status).toBe(400);
    expect(errorOf(facet)).toContain("Index required but not found");
    await send({
      method: "PUT",
      path: "/collections/c/index",
      body: { field_name: "author_id", field_schema: "keyword" },
    });
    const indexed = await send({ method: "POST", path: "/collections/c/facet", body: { key: "author_id" } });
    expect(indexed.status).toBe(200);
  });

  it("honours with_payload: none by default on queries, a key list, include and exclude", async () => {
    const { send } = await setUp();
    const query = (with_payload?: unknown) =>
      send({
        method: "POST",
        path: "/collections/c/points/query",
        body: { query: [1, 0], using: "dense", limit: 1, ...(with_payload === undefined ? {} : { with_payload }) },
      }).then(
        (response) => (response.body as { result: { points: { payload: unknown }[] } }).result.points[0]?.payload,
      );
    expect(await query()).toBeNull();
    expect(await query(["name"])).toEqual({ name: "a" });
    expect(await query({ include: ["author_id"] })).toEqual({ author_id: "even" });
    expect(await query({ exclude: ["text", "author_id"] })).toEqual({ name: "a" });
    expect(await query(true)).toEqual({ name: "a", author_id: "even", text: "text a" });
  });

  it("fuses prefetches with Qdrant's weighted RRF: 1 / ((rank0 + 1) / weight + k - 1)", async () => {
    const { send } = await setUp();
    const response = await send({
      method: "POST",
      path: "/collections/c/points/query",
      body: {
        // dense: a, b, c, d (a is nearest [1, 0]); sparse on index 3: d only.
        prefetch: [
          { query: [1, 0], using: "dense", limit: 4 },
          { query: { indices: [3], values: [1] }, using: "sparse", limit: 4 },
        ],
        query: { rrf: { k: 3, weights: [0.2, 0.8] } },
        limit: 4,
      },
    });
    const points = (response.body as { result: { points: { id: string; score: number }[] } }).result.points;
    const dense = (rank0: number) => 1 / ((rank0 + 1) / 0.2 + 3 - 1);
    const sparse = 1 / (1 / 0.8 + 3 - 1);
    expect(points.map((point) => point.id)).toEqual(["d", "a", "b", "c"].map(contractId));
    expect(points[0]?.score).toBeCloseTo(dense(3) + sparse, 6);
    expect(points[1]?.score).toBeCloseTo(dense(0), 6);
    const plain = await send({
      method: "POST",
      path: "/collections/c/points/query",
      body: { prefetch: [{ query: [1, 0], using: "dense", limit: 4 }], query: { fusion: "rrf" }, limit: 1 },
    });
    // Default k = 2, weight 1: the first rank scores 1 / 2.
    expect((plain.body as { result: { points: { score: number }[] } }).result.points[0]?.score).toBeCloseTo(0.5, 6);
  });

  it("resolves aliases for reads and swaps several aliases in one atomic request", async () => {
    const { send, fake } = await setUp();
    await send({
      method: "PUT",
      path: "/collections/c2",
      body: { vectors: { dense: { size: 2, distance: "Cosine" } } },
    });
    await send({
      method: "POST",
      path: "/collections/aliases",
      body: { actions: [{ create_alias: { collection_name: "c", alias_name: "live" } }] },
    });
    const count = async () =>
      (
        (await send({ method: "POST", path: "/collections/live/points/count", body: { exact: true } })).body as {
          result: { count: number };
        }
      ).result.count;
    expect(await count()).toBe(4);
    const failed = await send({
      method: "POST",
      path: "/collections/aliases",
      body: {
        actions: [
          { delete_alias: { alias_name: "live" } },
          { create_alias: { collection_name: "missing", alias_name: "live" } },
        ],
      },
    });
    expect(failed.status).toBe(404);
    expect(fake.aliases().get("live")).toBe("c");
    await send({
      method: "POST",
      path: "/collections/aliases",
      body: {
        actions: [
          { delete_alias: { alias_name: "live" } },
          { create_alias: { collection_name: "c2", alias_name: "live" } },
        ],
      },
    });
    expect(await count()).toBe(0);
  });
});

describe.skipIf(!SPEC_MISSING)("fake Qdrant schema checks", () => {
  it.skip("skipped: ../shared/datasets/qdrant/openapi-v1.18.3.json is absent (set LLM_TWIN_SHARED_DATASETS)", () => {});
});
