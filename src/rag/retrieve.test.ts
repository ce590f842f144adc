import { describe, expect, it } from "vitest";
import { createTracer, openTraceLog } from "../observability/tracing/index.js";
import { answerStream } from "./answer.js";
import { resolveRagConfig } from "./config.js";
import { type RagDependencies, retrieve } from "./retrieve.js";
import { fakeEmbedder, fakeLanguageModel, fakeStore, MAXIME, PAUL, sampleChunks } from "./testing/fakes.js";
import type { RagPart } from "./types.js";

function deps(overrides: Partial<RagDependencies["config"]> = {}) {
  const embedder = fakeEmbedder();
  const store = fakeStore(sampleChunks(), fakeEmbedder());
  const llm = fakeLanguageModel();
  return {
    embedder,
    store,
    llm,
    deps: { store, embedder, llm, config: resolveRagConfig(overrides) } satisfies RagDependencies,
  };
}

describe("retrieve", () => {
  it("expands the query, embeds all queries in one batch and searches every category with the author filter", async () => {
    const { embedder, store, llm, deps: dependencies } = deps({ expandQueries: 3, retrievalMode: "hybrid" });
    llm.defaultText = "How do retrieval pipelines work with LLMs?\nWhat makes RAG systems useful in practice?";
    const result = await retrieve({ query: "My name is Paul Iusztin. Write about RAG", k: 2 }, dependencies);
    expect(result.queries).toHaveLength(3);
    expect(result.queries[0]).toBe("My name is Paul Iusztin. Write about RAG");
    expect(embedder.calls).toHaveLength(1);
    expect(embedder.calls[0]).toHaveLength(3);
    expect(store.searches).toHaveLength(9);
    expect(store.searches.every((search) => search.filter?.authorId === PAUL.id && search.mode === "hybrid")).toBe(
      true,
    );
    expect(new Set(store.searches.map((search) => search.category))).toEqual(
      new Set(["articles", "posts", "repositories"]),
    );
    expect(result.author).toEqual(PAUL);
    expect(result.authorSource).toBe("match");
    expect(result.sources.every((source) => source.author.id === PAUL.id)).toBe(true);
    expect(result.sources.length).toBeLessThanOrEqual(2);
  });

  it("runs self-query and expansion concurrently", async () => {
    const { llm, deps: dependencies } = deps({ expandQueries: 3, selfQuery: "llm" });
    let inFlight = 0;
    let maxInFlight = 0;
    const generate = llm.generate.bind(llm);
    llm.generate = async (request) => {
      inFlight += 1;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await new Promise((resolve) => setTimeout(resolve, 20));
      inFlight -= 1;
      return generate(request);
    };
    await retrieve({ query: "a blog about cooking" }, dependencies);
    expect(maxInFlight).toBe(2);
  });

  it("skips the embedder in lexical mode and only searches the requested categories", async () => {
    const { embedder, store, deps: dependencies } = deps({ retrievalMode: "lexical", expandQueries: 1 });
    const result = await retrieve(
      { query: "model merging", categories: ["repositories"], author: MAXIME.id },
      dependencies,
    );
    expect(embedder.calls).toHaveLength(0);
    expect(store.searches.map((search) => [search.mode, search.category, search.text])).toEqual([
      ["lexical", "repositories", "model merging"],
    ]);
    expect(result.sources.map((source) => source.id)).toEqual(["c4"]);
  });

  it("does not call the LLM at all when expansion and LLM self-query are off", async () => {
    const { llm, deps: dependencies } = deps({ expandQueries: 1, selfQuery: "match" });
    await retrieve({ query: "anything at all" }, dependencies);
    expect(llm.requests).toHaveLength(0);
  });
});

describe("answerStream", () => {
  it("puts the query's text (never an object) and the context into the prompt, and traces the steps", async () => {
    const { llm, deps: dependencies } = deps({ expandQueries: 1, promptTemplate: "alpaca" });
    const log = await openTraceLog({ capacity: 5 });
    const trace = createTracer([log]).startTrace("rag");
    const parts: RagPart[] = [];
    for await (const part of answerStream({ query: "Write about RAG pipelines", k: 1 }, dependencies, { trace }))
      parts.push(part);
    trace.end();
    expect(parts.map((part) => part.type)).toEqual(["sources", "token", "token", "token", "token", "token", "done"]);
    const request = llm.requests[0];
    const prompt = request !== undefined && "prompt" in request ? request.prompt : "";
    expect(prompt).toContain("Write about RAG pipelines");
    expect(prompt).not.toContain("[object Object]");
    const sources = parts[0]?.type === "sources" ? parts[0].sources : [];
    expect(prompt).toContain(sources[0]?.text.slice(0, 40));
    const names = log.list(1)[0]?.spans.map((span) => span.name);
    expect(names).toEqual(["self-query", "query-expansion", "embedding", "search", "rerank", "prompt", "generation"]);
  });
});
