/**
 * The pipeline's input side: read results → (duplicate check) → cleaned and chunked documents, in
 * input order. On the main thread, or — with a preprocessing worker — in batches sent to the
 * worker, a few batches ahead, whose chunks come back already embedded.
 */
import type { CleanedDocument, RawDocument } from "../domain/index.js";
import type { Embedder } from "../embedding/index.js";
import { AppError } from "../errors/index.js";
import type { PreprocessingParameters } from "../preprocessing/index.js";
import type { PreparedDocument } from "./plan.js";
import { prepareDocument } from "./prepare-document.js";
import type { PreparedBatchResult, PreprocessWorker } from "./preprocess-pool.js";
import type { ReadResult } from "./readers/index.js";
import type { SkippedDocument } from "./types.js";

export type PreparedItem =
  | { kind: "skipped"; skipped: SkippedDocument }
  | { kind: "document"; document: PreparedDocument; cleaned: CleanedDocument | undefined };

/** Documents per message to the worker, and messages in flight (keeps the worker busy while the main thread writes). */
const WORKER_BATCH_DOCUMENTS = 32;
const WORKER_BATCHES_AHEAD = 4;

type Pending =
  | { kind: "skipped"; skipped: SkippedDocument }
  | { kind: "record"; document: RawDocument; sourceHash: string; source: { file: string; index: number } };

export async function* preparedDocuments(
  input: AsyncIterable<ReadResult>,
  settings: {
    embedder: Embedder;
    parameters: PreprocessingParameters | undefined;
    worker: PreprocessWorker | undefined;
    signal: AbortSignal | undefined;
  },
): AsyncGenerator<PreparedItem> {
  const seen = new Map<string, string>();
  const classify = (result: ReadResult): Pending => {
    if (!result.ok) return { kind: "skipped", skipped: { ...result.source, reason: result.reason } };
    const { document, source } = result;
    const key = `${document.category}\u0000${document.id}`;
    const firstSeen = seen.get(key);
    if (firstSeen !== undefined) {
      return {
        kind: "skipped",
        skipped: {
          ...source,
          reason: `duplicate ${document.category} id "${document.id}" (first read at ${firstSeen})`,
        },
      };
    }
    seen.set(key, `${source.file}:${source.index}`);
    return { kind: "record", document, sourceHash: result.sourceHash, source };
  };
  const { worker } = settings;
  if (worker === undefined) {
    for await (const result of input) {
      throwIfAborted(settings.signal);
      const item = classify(result);
      if (item.kind === "skipped") {
        yield item;
        continue;
      }
      const prepared = prepareDocument(item.document, item.sourceHash, settings.embedder, settings.parameters);
      yield prepared.ok
        ? { kind: "document", document: prepared.document, cleaned: prepared.cleaned }
        : { kind: "skipped", skipped: { ...item.source, reason: prepared.reason } };
    }
    return;
  }
  type Batch = { items: Pending[]; prepared: Promise<PreparedBatchResult[]> };
  const batches: Batch[] = [];
  let items: Pending[] = [];
  let records = 0;
  const dispatch = () => {
    if (items.length === 0) return;
    const recordsOf = items.flatMap((item) =>
      item.kind === "record" ? [{ document: item.document, sourceHash: item.sourceHash }] : [],
    );
    const prepared = recordsOf.length === 0 ? Promise.resolve([]) : worker.prepare(recordsOf);
    prepared.catch(() => undefined); // awaited in order below
    batches.push({ items, prepared });
    items = [];
    records = 0;
  };
  async function* drain(batch: Batch): AsyncGenerator<PreparedItem> {
    const results = await batch.prepared;
    let next = 0;
    for (const item of batch.items) {
      if (item.kind === "skipped") {
        yield item;
        continue;
      }
      const result = results[next++] as PreparedBatchResult;
      yield result.ok
        ? { kind: "document", document: result.document, cleaned: result.cleaned }
        : { kind: "skipped", skipped: { ...item.source, reason: result.reason } };
    }
  }
  try {
    for await (const result of input) {
      throwIfAborted(settings.signal);
      const item = classify(result);
      items.push(item);
      if (item.kind === "record" && ++records >= WORKER_BATCH_DOCUMENTS) dispatch();
      while (batches.length >= WORKER_BATCHES_AHEAD) yield* drain(batches.shift() as Batch);
    }
    dispatch();
    while (batches.length > 0) yield* drain(batches.shift() as Batch);
  } finally {
    await Promise.allSettled(batches.map((batch) => batch.prepared));
  }
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new AppError("aborted", "ingestion was aborted", { cause: signal.reason });
}
