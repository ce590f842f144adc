/** The Embedder contract on the GGUF adapter, with a generated BERT model. */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll } from "vitest";
import { generateBertGguf, TINY_BERT_OPTIONS } from "../../gguf/index.js";
import { describeEmbedderContract } from "../testing/embedder-contract.js";
import { createLlamaCppEmbedder } from "./index.js";

let directory: string | undefined;
afterAll(async () => {
  if (directory !== undefined) await rm(directory, { recursive: true, force: true });
});

describeEmbedderContract("gguf (generated BERT)", async () => {
  directory = await mkdtemp(join(tmpdir(), "llm-twin-gguf-contract-"));
  const model = await generateBertGguf(join(directory, "bert.gguf"), TINY_BERT_OPTIONS);
  return createLlamaCppEmbedder({ source: model.path, cacheDir: directory, threads: 1, maxBatchSize: 4 });
});
