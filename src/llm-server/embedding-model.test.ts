/**
 * serve-llm takes two model files: a problem with --embedding-model says it is that one, not the
 * generation model (--model).
 */
import { describe, expect, it } from "vitest";
import { parseLlmServerConfig } from "./config.js";
import { loadEmbeddingModel } from "./embedding-model.js";

describe("loadEmbeddingModel", () => {
  it("names --embedding-model in a load failure, keeping its code", async () => {
    const config = parseLlmServerConfig({ model: "m.gguf", embeddingModel: "/nonexistent/bert.gguf" });
    await expect(loadEmbeddingModel(config, {})).rejects.toMatchObject({
      code: "model_not_found",
      message: expect.stringMatching(/^--embedding-model \/nonexistent\/bert\.gguf: .*not found/i),
    });
  });
});
