/**
 * Main-thread side of the preprocessing worker: starts it, sends batches of raw documents and gets
 * back prepared documents whose chunks already carry vectors. Batches are answered in order.
 *
 * Running from TypeScript sources (tsx, vitest), a worker thread does not inherit the loader, so the
 * worker is started through a tiny bootstrap that registers tsx inside the thread first.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import type { CleanedDocument, RawDocument } from "../domain/index.js";
import type { Embedder } from "../embedding/index.js";
import type { StaticEmbedder } from "../embedding/static/index.js";
import { AppError } from "../errors/index.js";
import type { PreprocessingParameters } from "../preprocessing/index.js";
import type { PreparedDocument } from "./plan.js";
import type { PreprocessReply, PreprocessRequest, PreprocessWorkerData } from "./preprocess-protocol.js";
import { unpackDocument } from "./preprocess-protocol.js";

export type PreparedBatchResult =
  | { ok: true; document: PreparedDocument; cleaned?: CleanedDocument }
  | { ok: false; reason: string };

export type PreprocessWorker = {
  prepare(records: { document: RawDocument; sourceHash: string }[]): Promise<PreparedBatchResult[]>;
  /** The vectors of `texts`, one after another in one buffer. */
  embed(texts: string[]): Promise<Float32Array>;
  /** CPU time (ms) the thread spent starting (loading code and the embedder); null when the platform cannot tell. */
  readonly startupCpuMs: number | null;
  /** Stops the thread; resolves with its total CPU time in ms (null when the platform cannot tell). */
  close(): Promise<number | null>;
};

/** The embedder's recipe when it can be rebuilt inside a worker thread (the static embedder), else undefined. */
export function workerRecipeOf(embedder: Embedder): PreprocessWorkerData["recipe"] | undefined {
  return (embedder as Partial<StaticEmbedder>).recipe;
}

export async function startPreprocessWorker(
  embedder: Embedder,
  options: { parameters?: PreprocessingParameters; keepCleaned: boolean },
): Promise<PreprocessWorker> {
  const recipe = workerRecipeOf(embedder);
  if (recipe === undefined) throw new AppError("internal_error", `embedder ${embedder.id} cannot run in a worker`);
  const data: PreprocessWorkerData = {
    recipe,
    keepCleaned: options.keepCleaned,
    ...(options.parameters === undefined ? {} : { parameters: options.parameters }),
  };
  const worker = spawnWorker(data);
  // biome-ignore lint/suspicious/noExplicitAny: each request's resolver takes its own reply type
  const pending = new Map<number, { resolve: (value: any) => void; reject: (error: Error) => void }>();
  let nextId = 0;
  let failure: Error | undefined;
  let onClosed: ((cpuMs: number | null) => void) | undefined;
  let onReady: { resolve: (cpuMs: number | null) => void; reject: (error: Error) => void } | undefined;
  const ready = new Promise<number | null>((resolve, reject) => {
    onReady = { resolve, reject };
  });
  const fail = (error: Error) => {
    failure ??= error;
    onReady?.reject(error);
    for (const entry of pending.values()) entry.reject(error);
    pending.clear();
    onClosed?.(null);
  };
  worker.on("error", (error) => fail(new AppError("internal_error", `preprocessing worker failed: ${error.message}`)));
  worker.on("exit", (code) => {
    if (pending.size > 0 || onClosed === undefined)
      fail(new AppError("internal_error", `preprocessing worker exited (code ${code})`));
  });
  worker.on("message", (reply: PreprocessReply) => {
    if (reply.type === "ready") {
      if (reply.embedderId !== embedder.id || reply.dimensions !== embedder.dimensions) {
        fail(
          new AppError("internal_error", `preprocessing worker built embedder ${reply.embedderId}, not ${embedder.id}`),
        );
      } else onReady?.resolve(reply.cpuMs);
    } else if (reply.type === "closed") {
      onClosed?.(reply.cpuMs);
    } else if (reply.type === "failed") {
      const error = new AppError(reply.code ?? "internal_error", reply.message);
      if (reply.id === null) fail(error);
      else {
        pending.get(reply.id)?.reject(error);
        pending.delete(reply.id);
      }
    } else if (reply.type === "embedded") {
      pending.get(reply.id)?.resolve(reply.vectors);
      pending.delete(reply.id);
    } else {
      const entry = pending.get(reply.id);
      pending.delete(reply.id);
      let offset = 0;
      const results = reply.results.map((result): PreparedBatchResult => {
        if (!result.ok) return result;
        const document = unpackDocument(result.packed, reply.vectors, offset, embedder.dimensions);
        offset += result.packed.ids.length * embedder.dimensions;
        return result.cleaned === undefined ? { ok: true, document } : { ok: true, document, cleaned: result.cleaned };
      });
      entry?.resolve(results);
    }
  });
  const send = <T>(request: PreprocessRequest): Promise<T> => {
    if (failure !== undefined) return Promise.reject(failure);
    return new Promise<T>((resolve, reject) => {
      pending.set(request.id, { resolve, reject });
      worker.postMessage(request);
    });
  };
  let startupCpuMs: number | null;
  try {
    startupCpuMs = await ready;
  } catch (error) {
    await worker.terminate();
    throw error;
  }
  return {
    startupCpuMs,
    prepare(records) {
      return send({ type: "prepare", id: nextId++, records });
    },
    embed(texts) {
      return send({ type: "embed", id: nextId++, texts });
    },
    async close() {
      if (failure !== undefined) {
        await worker.terminate();
        return null;
      }
      const closed = new Promise<number | null>((resolve) => {
        onClosed = resolve;
      });
      worker.postMessage({ type: "close" });
      const cpuMs = await Promise.race([
        closed,
        new Promise<null>((resolve) => setTimeout(() => resolve(null), 5_000).unref()),
      ]);
      await worker.terminate();
      return cpuMs;
    },
  };
}

function spawnWorker(data: PreprocessWorkerData): Worker {
  const fromSource = import.meta.url.endsWith(".ts");
  const entry = new URL(`./preprocess-worker.${fromSource ? "ts" : "js"}`, import.meta.url);
  if (!fromSource) return new Worker(entry, { workerData: data });
  const loader = tsxLoaderUrl();
  const bootstrap = `import(${JSON.stringify(loader)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry.href)}); });`;
  return new Worker(bootstrap, { eval: true, workerData: data });
}

/** tsx's ESM registration API, located through its package exports. */
function tsxLoaderUrl(): string {
  const packageJsonPath = createRequire(import.meta.url).resolve("tsx/package.json");
  const manifest = JSON.parse(readFileSync(packageJsonPath, "utf8")) as {
    exports: Record<string, { import?: { default?: string } }>;
  };
  const relative = manifest.exports["./esm/api"]?.import?.default ?? "./dist/esm/api/index.mjs";
  return pathToFileURL(join(dirname(packageJsonPath), relative)).href;
}
