/**
 * The preprocessing worker thread: cleans, chunks and embeds batches of raw documents with its own
 * copy of the static embedder, so the pipeline's main thread only plans and writes. Started by
 * preprocess-pool.ts; the same prepareDocument code runs as on the main thread.
 */
import { readFileSync } from "node:fs";
import { parentPort, workerData } from "node:worker_threads";
import { createStaticEmbedder } from "../embedding/static/index.js";
import { AppError } from "../errors/index.js";
import { prepareDocument } from "./prepare-document.js";
import {
  type PackedResult,
  type PreprocessReply,
  type PreprocessRequest,
  type PreprocessWorkerData,
  packDocument,
} from "./preprocess-protocol.js";

const port = parentPort;
if (port === null) throw new Error("preprocess-worker.ts runs as a worker thread only");
const settings = workerData as PreprocessWorkerData;
const post = (reply: PreprocessReply, transfer: ArrayBuffer[] = []) => port.postMessage(reply, transfer);

/** CPU time of this thread (Linux /proc), or null where unavailable. */
function threadCpuMs(): number | null {
  try {
    const fields = readFileSync("/proc/thread-self/stat", "utf8").split(") ")[1]?.split(" ") ?? [];
    const ticks = Number(fields[11]) + Number(fields[12]); // utime + stime (fields 14 and 15)
    return Number.isFinite(ticks) ? ticks * 10 : null; // USER_HZ is 100 on Linux
  } catch {
    return null;
  }
}

try {
  const embedder = await createStaticEmbedder(settings.recipe);
  post({
    type: "ready",
    embedderId: embedder.id,
    dimensions: embedder.dimensions,
    maxInputTokens: embedder.maxInputTokens,
    cpuMs: threadCpuMs(),
  });
  /** All vectors of `texts` in one buffer (to transfer, not copy). */
  const embedFlat = async (texts: string[]): Promise<Float32Array> => {
    const vectors = new Float32Array(texts.length * embedder.dimensions);
    const embedded = await embedder.embed(texts);
    for (let position = 0; position < embedded.length; position++) {
      vectors.set(embedded[position] as Float32Array, position * embedder.dimensions);
    }
    return vectors;
  };
  port.on("message", async (message: PreprocessRequest | { type: "close" }) => {
    if (message.type === "close") {
      post({ type: "closed", cpuMs: threadCpuMs() });
      port.close();
      return;
    }
    try {
      if (message.type === "embed") {
        const vectors = await embedFlat(message.texts);
        post({ type: "embedded", id: message.id, vectors }, [vectors.buffer as ArrayBuffer]);
        return;
      }
      const results: PackedResult[] = [];
      const texts: string[] = [];
      for (const { document, sourceHash } of message.records) {
        const prepared = prepareDocument(document, sourceHash, embedder, settings.parameters);
        if (!prepared.ok) {
          results.push(prepared);
          continue;
        }
        for (const chunk of prepared.document.chunks) texts.push(chunk.text);
        const packed = packDocument(prepared.document);
        results.push(settings.keepCleaned ? { ok: true, packed, cleaned: prepared.cleaned } : { ok: true, packed });
      }
      const vectors = await embedFlat(texts);
      post({ type: "prepared", id: message.id, results, vectors }, [vectors.buffer as ArrayBuffer]);
    } catch (error) {
      post({
        type: "failed",
        id: message.id,
        code: error instanceof AppError ? error.code : null,
        message: error instanceof Error ? error.message : String(error),
      });
    }
  });
} catch (error) {
  post({
    type: "failed",
    id: null,
    code: error instanceof AppError ? error.code : null,
    message: error instanceof Error ? error.message : String(error),
  });
}
