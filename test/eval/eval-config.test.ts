import { describe, expect, it } from "vitest";
import { parseEvalConfig } from "../../src/cli/commands/eval.js";
import { httpEmbedderOptions } from "../../src/embedding/http/settings.js";

const base = {
  dataset: "llm-twin",
  split: "test",
  mode: "all",
  k: "10",
  depth: "100",
  embedder: "static",
  embedderRequestTimeoutMs: "30000",
  embedderRetries: "2",
  rerankCandidates: "100",
  fusion: "agreement",
  denseWeight: "0.5",
  rrfK: "60",
  titleWeight: "0",
  queries: "all",
  searchLimit: "200",
  progress: "auto",
  stopWords: "store-default",
  stem: "store-default",
};

describe("eval retrieval options", () => {
  it("coerces numbers and flags", () => {
    const config = parseEvalConfig({ ...base, json: true, limitQueries: "5" });
    expect(config).toMatchObject({
      k: 10,
      depth: 100,
      denseWeight: 0.5,
      rrfK: 60,
      json: true,
      recreate: false,
      limitQueries: 5,
      fusion: "agreement",
      queries: "all",
    });
  });

  it("takes the hybrid fusion and a half of the queries", () => {
    expect(parseEvalConfig({ ...base, fusion: "rrf", queries: "held-out" })).toMatchObject({
      fusion: "rrf",
      queries: "held-out",
    });
    expect(() => parseEvalConfig({ ...base, fusion: "max" })).toThrow(
      /--fusion \(LLM_TWIN_EVAL_FUSION\): must be agreement or rrf/,
    );
    expect(() => parseEvalConfig({ ...base, queries: "half" })).toThrow(
      /--queries \(LLM_TWIN_EVAL_QUERIES\): must be all, tune, held-out/,
    );
  });

  it("fails naming every bad flag", () => {
    expect(() => parseEvalConfig({ ...base, k: "x", denseWeight: "2" })).toThrow(
      /--k \(LLM_TWIN_EVAL_K\): must be a number \(got "x"\); --dense-weight \(LLM_TWIN_EVAL_DENSE_WEIGHT\): must be within 0\.\.1/,
    );
    expect(() => parseEvalConfig({ ...base, rrfK: "0" })).toThrow(/--rrf-k \(LLM_TWIN_EVAL_RRF_K\): must be positive/);
  });

  it("takes the HTTP embedder's timeout and retries (--embedder-request-timeout-ms, --embedder-retries)", () => {
    const config = parseEvalConfig({ ...base, embedderRequestTimeoutMs: "1500", embedderRetries: "0" });
    expect(httpEmbedderOptions(config)).toEqual({ timeoutMs: 1500, retries: 0 });
    expect(() => parseEvalConfig({ ...base, embedderRetries: "-1" })).toThrow(
      /--embedder-retries \(LLM_TWIN_EMBEDDER_RETRIES\): must be >= 0/,
    );
  });
});
