import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { generateGguf, TINY_MODEL_PRESETS } from "../gguf/index.js";
import { type DownloadProgress, parseModelSource, pickQuantizationFile, resolveModelFile } from "./index.js";

type Logged = { path: string; range: string | undefined; authorization: string | undefined };

let scratch: string;
let model: Buffer;
let server: Server;
let base: string;
let requests: Logged[] = [];
/** Byte count after which the next model response is cut (then reset). */
let cutAfter: number | undefined;
let ignoreRange = false;

function sendModel(request: IncomingMessage, response: ServerResponse): void {
  const range = /^bytes=(\d+)-$/.exec(request.headers.range ?? "");
  const start = range !== null && !ignoreRange ? Number(range[1]) : 0;
  if (start >= model.length) {
    response.writeHead(416, { "content-range": `bytes */${model.length}` }).end();
    return;
  }
  const headers: Record<string, string | number> = {
    "content-type": "application/octet-stream",
    "content-length": model.length - start,
  };
  if (start > 0) headers["content-range"] = `bytes ${start}-${model.length - 1}/${model.length}`;
  response.writeHead(start > 0 ? 206 : 200, headers);
  if (cutAfter !== undefined) {
    const cut = cutAfter;
    cutAfter = undefined;
    response.write(model.subarray(start, start + cut), () => {
      setTimeout(() => response.destroy(), 20);
    });
    return;
  }
  response.end(model.subarray(start));
}

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), "llm-twin-model-source-"));
  const generated = await generateGguf(join(scratch, "served.gguf"), {
    ...TINY_MODEL_PRESETS.chat,
    vocabularySize: 400,
    contextLength: 256,
  });
  model = await readFile(generated.path);
  server = createServer((request, response) => {
    const path = decodeURIComponent(new URL(request.url ?? "/", "http://x").pathname);
    requests.push({ path, range: request.headers.range, authorization: request.headers.authorization });
    if (path === "/models/tiny.gguf") return sendModel(request, response);
    if (path === "/not-a-model.gguf") {
      response.writeHead(200, { "content-type": "text/html" }).end("<html><body>Sign in</body></html>");
      return;
    }
    if (path === "/api/models/someone/tiny-GGUF") {
      response.writeHead(200, { "content-type": "application/json" }).end(
        JSON.stringify({
          id: "someone/tiny-GGUF",
          siblings: [
            { rfilename: "README.md" },
            { rfilename: "tiny.Q4_K_M.gguf" },
            { rfilename: "tiny.Q8_0.gguf" },
            { rfilename: "tiny.Q4_K_M-large.Q6_K-00001-of-00002.gguf" },
            { rfilename: "sub/dir/tiny-f16.gguf" },
          ],
        }),
      );
      return;
    }
    const resolveMatch = /^\/someone\/tiny-GGUF\/resolve\/main\/(.+)$/.exec(path);
    if (resolveMatch !== null && resolveMatch[1] !== "missing.gguf") return sendModel(request, response);
    response.writeHead(404, { "content-type": "text/plain" }).end("Not Found");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  await rm(scratch, { recursive: true, force: true });
});

let cacheDir: string;
beforeEach(async () => {
  requests = [];
  cutAfter = undefined;
  ignoreRange = false;
  cacheDir = await mkdtemp(join(scratch, "cache-"));
});
afterEach(() => {
  delete process.env.HF_ENDPOINT;
  delete process.env.HF_TOKEN;
});

const digest = (bytes: Buffer): string => createHash("sha256").update(bytes).digest("hex");

async function expectSameModel(path: string): Promise<void> {
  expect(digest(await readFile(path))).toBe(digest(model));
}

describe("parseModelSource", () => {
  it("recognises paths, URLs and hf: URIs", () => {
    expect(parseModelSource("./m.gguf", "/base")).toEqual({ kind: "file", path: "/base/m.gguf" });
    expect(parseModelSource("file:///x/m.gguf")).toEqual({ kind: "file", path: "/x/m.gguf" });
    expect(parseModelSource("https://example.org/m.gguf")).toEqual({ kind: "url", url: "https://example.org/m.gguf" });
    expect(parseModelSource("hf:user/repo:Q4_K_M")).toEqual({
      kind: "huggingface-quantization",
      user: "user",
      repository: "repo",
      quantization: "Q4_K_M",
    });
    expect(parseModelSource("hf:user/repo")).toMatchObject({
      kind: "huggingface-quantization",
      quantization: undefined,
    });
    expect(parseModelSource("hf:user/repo/dir/model.gguf")).toEqual({
      kind: "huggingface-file",
      user: "user",
      repository: "repo",
      file: "dir/model.gguf",
    });
  });

  it("rejects malformed sources with configuration_error", () => {
    for (const bad of [
      "",
      "hf:user",
      "hf:user/repo/../x.gguf",
      "hf:user/repo/readme.md",
      "ftp://x/y",
      "hf:u/r/f.gguf:Q4",
    ]) {
      expect(() => parseModelSource(bad), bad).toThrow(expect.objectContaining({ code: "configuration_error" }));
    }
  });

  it("picks the file of a quantization", () => {
    const files = ["a.Q4_K_M.gguf", "a.Q4_K_S.gguf", "a-q8_0.gguf", "mmproj-a-f16.gguf", "b.Q2_K-00001-of-00002.gguf"];
    expect(pickQuantizationFile(files, "q8_0", "r")).toBe("a-q8_0.gguf");
    expect(pickQuantizationFile(files, undefined, "r")).toBe("a.Q4_K_M.gguf");
    expect(() => pickQuantizationFile(files, "Q5_K_M", "r")).toThrow(
      expect.objectContaining({ code: "model_not_found" }),
    );
    expect(() => pickQuantizationFile(files, "Q2_K", "r")).toThrow(/split GGUF/);
  });
});

describe("resolveModelFile", () => {
  it("returns a local GGUF path and rejects missing or non-GGUF files", async () => {
    await expect(resolveModelFile(join(scratch, "served.gguf"))).resolves.toBe(join(scratch, "served.gguf"));
    await expect(resolveModelFile(join(scratch, "missing.gguf"))).rejects.toMatchObject({ code: "model_not_found" });
    const text = join(scratch, "text.gguf");
    await writeFile(text, "hello, not a model");
    await expect(resolveModelFile(text)).rejects.toMatchObject({ code: "configuration_error" });
  });

  it("downloads a URL once into the cache, with progress", async () => {
    const updates: DownloadProgress[] = [];
    const path = await resolveModelFile(`${base}/models/tiny.gguf`, {
      cacheDir,
      onProgress: (update) => updates.push(update),
    });
    expect(path.startsWith(join(cacheDir, "models", "url"))).toBe(true);
    expect(path.endsWith("-tiny.gguf")).toBe(true);
    await expectSameModel(path);
    const last = updates.at(-1);
    expect(last).toMatchObject({ done: true, downloadedBytes: model.length, totalBytes: model.length, percent: 100 });
    expect(last?.bytesPerSecond).toBeGreaterThan(0);
    expect(requests).toHaveLength(1);

    const again = await resolveModelFile(`${base}/models/tiny.gguf`, { cacheDir });
    expect(again).toBe(path);
    expect(requests).toHaveLength(1);
    expect((await readdir(join(cacheDir, "models", "url"))).filter((name) => name.endsWith(".partial"))).toEqual([]);
  });

  it("resumes with a Range request after the server cuts the connection", async () => {
    cutAfter = 100_000;
    const path = await resolveModelFile(`${base}/models/tiny.gguf`, { cacheDir, retries: 2, retryDelayMs: 10 });
    await expectSameModel(path);
    // The cut happens after at most 100,000 bytes reached the client (fewer may arrive under load).
    expect(requests).toHaveLength(2);
    expect(requests[0]?.range).toBeUndefined();
    const resumedFrom = Number(/^bytes=(\d+)-$/.exec(requests[1]?.range ?? "")?.[1]);
    expect(resumedFrom).toBeGreaterThan(0);
    expect(resumedFrom).toBeLessThanOrEqual(100_000);
  });

  it("keeps the partial file when retries run out, and the next call resumes it", async () => {
    cutAfter = 150_000;
    await expect(resolveModelFile(`${base}/models/tiny.gguf`, { cacheDir, retries: 0 })).rejects.toMatchObject({
      code: "upstream_unavailable",
      retryable: true,
    });
    const directory = join(cacheDir, "models", "url");
    const partial = (await readdir(directory)).find((name) => name.endsWith(".partial"));
    expect(partial).toBeDefined();
    const partialSize = (await stat(join(directory, partial ?? ""))).size;
    expect(partialSize).toBeGreaterThan(0);
    expect(partialSize).toBeLessThanOrEqual(150_000);
    const path = await resolveModelFile(`${base}/models/tiny.gguf`, { cacheDir, retries: 0 });
    await expectSameModel(path);
    expect(requests.map((request) => request.range)).toEqual([undefined, `bytes=${partialSize}-`]);
  });

  it("restarts from zero when the server ignores Range", async () => {
    cutAfter = 50_000;
    ignoreRange = true;
    const path = await resolveModelFile(`${base}/models/tiny.gguf`, { cacheDir, retries: 1, retryDelayMs: 10 });
    await expectSameModel(path);
    expect(requests).toHaveLength(2);
  });

  it("maps 404, non-GGUF content, unreachable hosts and aborts to error codes", async () => {
    await expect(resolveModelFile(`${base}/models/nothing.gguf`, { cacheDir })).rejects.toMatchObject({
      code: "model_not_found",
    });
    await expect(resolveModelFile(`${base}/not-a-model.gguf`, { cacheDir })).rejects.toMatchObject({
      code: "configuration_error",
      message: expect.stringContaining("not a GGUF"),
    });
    expect(existsSync(join(cacheDir, "models", "url")) ? await readdir(join(cacheDir, "models", "url")) : []).toEqual(
      [],
    );
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const closedPort = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    await expect(
      resolveModelFile(`http://127.0.0.1:${closedPort}/m.gguf`, { cacheDir, retries: 1, retryDelayMs: 5 }),
    ).rejects.toMatchObject({ code: "upstream_unavailable" });
    const controller = new AbortController();
    controller.abort();
    await expect(
      resolveModelFile(`${base}/models/tiny.gguf`, { cacheDir, signal: controller.signal }),
    ).rejects.toMatchObject({ code: "aborted" });
  });

  it("resolves hf:<user>/<repo>:<quant> through HF_ENDPOINT, once", async () => {
    process.env.HF_ENDPOINT = base;
    process.env.HF_TOKEN = "secret-token";
    const path = await resolveModelFile("hf:someone/tiny-GGUF:q8_0", { cacheDir });
    expect(path).toBe(join(cacheDir, "models", "hf", "someone", "tiny-GGUF", "tiny.Q8_0.gguf"));
    await expectSameModel(path);
    expect(requests.map((request) => request.path)).toEqual([
      "/api/models/someone/tiny-GGUF",
      "/someone/tiny-GGUF/resolve/main/tiny.Q8_0.gguf",
    ]);
    expect(requests.every((request) => request.authorization === "Bearer secret-token")).toBe(true);
    expect(await resolveModelFile("hf:someone/tiny-GGUF:Q8_0", { cacheDir })).toBe(path);
    expect(requests).toHaveLength(2);
    // No quantization: Q4_K_M, as llama.cpp.
    expect(await resolveModelFile("hf:someone/tiny-GGUF", { cacheDir })).toMatch(/tiny\.Q4_K_M\.gguf$/);
  });

  it("resolves hf:<user>/<repo>/<file> and reports unknown repositories and quantizations", async () => {
    process.env.HF_ENDPOINT = base;
    const path = await resolveModelFile("hf:someone/tiny-GGUF/sub/dir/tiny-f16.gguf", { cacheDir });
    expect(path).toBe(join(cacheDir, "models", "hf", "someone", "tiny-GGUF", "sub", "dir", "tiny-f16.gguf"));
    await expectSameModel(path);
    expect(requests.map((request) => request.path)).toEqual(["/someone/tiny-GGUF/resolve/main/sub/dir/tiny-f16.gguf"]);
    await expect(resolveModelFile("hf:someone/tiny-GGUF/missing.gguf", { cacheDir })).rejects.toMatchObject({
      code: "model_not_found",
    });
    await expect(resolveModelFile("hf:someone/other:Q4_K_M", { cacheDir })).rejects.toMatchObject({
      code: "model_not_found",
    });
    await expect(resolveModelFile("hf:someone/tiny-GGUF:Q5_K_M", { cacheDir })).rejects.toMatchObject({
      code: "model_not_found",
      message: expect.stringContaining("tiny.Q8_0.gguf"),
    });
  });
});
