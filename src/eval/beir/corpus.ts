/**
 * Streaming reader of a BEIR corpus (`corpus.jsonl` or `corpus.jsonl.gz`, one `{_id, title, text}`
 * per line): each abstract becomes a RawArticle whose id is the BEIR `_id`, so retrieved chunks map
 * straight back to qrels. Used by the ingestion benchmark and the retrieval evaluation.
 */
import { createHash } from "node:crypto";
import { createReadStream, existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { createGunzip } from "node:zlib";
import type { Author, RawArticle } from "../../domain/index.js";
import { AppError } from "../../errors/index.js";
import type { ReadResult } from "../../ingestion/readers/index.js";

export type BeirCorpusOptions = {
  /** Author given to every abstract. Default { id: "beir", fullName: "BEIR corpus" }. */
  author?: Author;
  /** Platform of every abstract. Default "beir". */
  platform?: string;
};

export const DEFAULT_BEIR_AUTHOR: Author = { id: "beir", fullName: "BEIR corpus" };

/** The corpus file of a BEIR dataset folder (corpus.jsonl preferred over corpus.jsonl.gz), or `path` itself. */
export function resolveBeirCorpusFile(path: string): string {
  if (existsSync(path) && statSync(path).isDirectory()) {
    for (const name of ["corpus.jsonl", "corpus.jsonl.gz"]) {
      const candidate = join(path, name);
      if (existsSync(candidate)) return candidate;
    }
    throw new AppError("not_found", `no corpus.jsonl or corpus.jsonl.gz in ${path}`);
  }
  if (!existsSync(path)) throw new AppError("not_found", `BEIR corpus ${path} does not exist`);
  return path;
}

/**
 * Every line as a ReadResult (the ingestion pipeline's input): a malformed line is a failure
 * result with its line index, never an exception.
 */
export async function* readBeirCorpusResults(path: string, options: BeirCorpusOptions = {}): AsyncIterable<ReadResult> {
  const file = resolveBeirCorpusFile(path);
  const author = options.author ?? DEFAULT_BEIR_AUTHOR;
  const platform = options.platform ?? "beir";
  const input = createReadStream(file);
  const decoded = file.endsWith(".gz") ? input.pipe(createGunzip()) : input;
  input.on("error", (error) => decoded.destroy(error));
  const lines = createInterface({ input: decoded, crlfDelay: Number.POSITIVE_INFINITY });
  let index = -1;
  for await (const line of lines) {
    index++;
    if (line.trim() === "") continue;
    const source = { file, index };
    let record: unknown;
    try {
      record = JSON.parse(line);
    } catch (error) {
      yield { ok: false, source, reason: `invalid JSON: ${(error as Error).message}` };
      continue;
    }
    const { _id: id, title, text } = (record ?? {}) as { _id?: unknown; title?: unknown; text?: unknown };
    if (typeof id !== "string" || id === "" || typeof text !== "string") {
      yield { ok: false, source, reason: "a BEIR corpus record needs a string _id and a string text" };
      continue;
    }
    const document: RawArticle = {
      id,
      category: "articles",
      author,
      platform,
      link: "",
      title: typeof title === "string" ? title : "",
      subtitle: "",
      content: text,
    };
    yield { ok: true, document, source, sourceHash: createHash("sha256").update(line).digest("hex") };
  }
}

/** Every abstract of the corpus as a RawArticle, streamed; malformed lines are skipped. */
export async function* readBeirCorpus(path: string, options: BeirCorpusOptions = {}): AsyncIterable<RawArticle> {
  for await (const result of readBeirCorpusResults(path, options)) {
    if (result.ok) yield result.document as RawArticle;
  }
}
