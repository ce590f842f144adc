/**
 * `llm-twin dataset instruct`: an instruct dataset from a document artifact. Each cleaned
 * document is chunked with the shared preprocessing; the writer LLM proposes instructions per chunk
 * and the chunk is the answer; filters, dedup and the split run at the end, and the result becomes a
 * dataset artifact whose parent is the document artifact.
 *
 * Resumable: every finished chunk is appended to a journal (`<artifacts>/.instruct-work/<key>.jsonl`,
 * key = document artifact + parameters) before the next is counted done; a new run with the same
 * input and parameters skips the chunks in the journal (a torn last line is ignored), so a killed
 * run neither redoes finished chunks nor duplicates pairs. The journal is removed once the artifact
 * is written.
 */
import { createReadStream, existsSync } from "node:fs";
import { appendFile, mkdir, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { createInterface } from "node:readline";
import type { Chunk, CleanedDocument } from "../domain/index.js";
import { AppError } from "../errors/index.js";
import { showArtifact } from "../ingestion/artifacts/index.js";
import { isUnreachableError } from "../llm/unreachable.js";
import { canonicalJson, chunkDocument, sha256Hex } from "../preprocessing/index.js";
import { type DatasetManifest, writeDatasetArtifact } from "./artifact.js";
import {
  DEFAULT_FILTER_OPTIONS,
  type FilterOptions,
  filterPairs,
  type InstructPair,
  toAlpacaLine,
  toMessagesLine,
} from "./filters.js";
import { INSTRUCT_PROMPT_VERSION, type InstructionWriter } from "./instruct-writer.js";

export type InstructOptions = {
  artifactsDirectory: string;
  /** A document artifact version (or unique prefix), or "latest". */
  from: string;
  writer: InstructionWriter;
  perChunk: number;
  concurrency: number;
  filters?: FilterOptions;
  onProgress?: (progress: { done: number; total: number; skipped: number; pairs: number }) => void;
  signal?: AbortSignal;
  now?: () => Date;
};

export type InstructResult = {
  manifest: DatasetManifest;
  path: string;
  created: boolean;
  chunks: number;
  resumedChunks: number;
  writerCalls: number;
  failedChunks: number;
  seconds: number;
};

type JournalLine = { chunkId: string; instructions: string[]; failed?: string };

const wordCounter = (maxInputTokens: number) => ({
  maxInputTokens,
  countTokens: (text: string) => (text.trim() === "" ? 0 : text.trim().split(/\s+/).length),
});

async function readChunks(path: string, maxInputTokens: number): Promise<Chunk[]> {
  const chunks: Chunk[] = [];
  const lines = createInterface({ input: createReadStream(path), crlfDelay: Number.POSITIVE_INFINITY });
  for await (const line of lines) {
    if (line.trim() === "") continue;
    chunks.push(...chunkDocument(JSON.parse(line) as CleanedDocument, wordCounter(maxInputTokens)));
  }
  return chunks;
}

async function readJournal(path: string): Promise<Map<string, JournalLine>> {
  const done = new Map<string, JournalLine>();
  if (!existsSync(path)) return done;
  for (const line of (await readFile(path, "utf8")).split("\n")) {
    try {
      const entry = JSON.parse(line) as JournalLine;
      if (typeof entry.chunkId === "string" && entry.failed === undefined) done.set(entry.chunkId, entry);
    } catch {
      // a torn last line from a killed run: that chunk is done again
    }
  }
  return done;
}

export async function generateInstructDataset(options: InstructOptions): Promise<InstructResult> {
  const started = performance.now();
  const source = await showArtifact(options.artifactsDirectory, options.from);
  const maxInputTokens = source.manifest.fingerprint.embedder.maxInputTokens;
  const chunks = await readChunks(join(source.path, source.manifest.documents.file), maxInputTokens);
  const filters = options.filters ?? DEFAULT_FILTER_OPTIONS;
  const generator = {
    model: options.writer.model,
    promptTemplateVersion: INSTRUCT_PROMPT_VERSION,
    parameters: { perChunk: options.perChunk, filters, chunkWordsMax: maxInputTokens, writer: options.writer.settings },
  };
  const workDirectory = join(options.artifactsDirectory, ".instruct-work");
  await mkdir(workDirectory, { recursive: true });
  const journalPath = join(
    workDirectory,
    `${source.manifest.version}-${sha256Hex(canonicalJson(generator)).slice(0, 12)}.jsonl`,
  );
  const done = await readJournal(journalPath);
  const resumedChunks = chunks.filter((chunk) => done.has(chunk.id)).length;
  const pending = chunks.filter((chunk) => !done.has(chunk.id));
  let pairs = [...done.values()].reduce((sum, entry) => sum + entry.instructions.length, 0);
  let writerCalls = 0;
  let failedChunks = 0;
  let lastFailure = "";
  // A writer that cannot be reached at all stops every worker: one error, not one per chunk.
  let unreachable: unknown;
  let next = 0;
  let finished = resumedChunks;
  const report = () =>
    options.onProgress?.({
      done: finished,
      total: chunks.length,
      skipped: resumedChunks,
      pairs,
    });

  async function worker(): Promise<void> {
    while (next < pending.length && unreachable === undefined) {
      options.signal?.throwIfAborted();
      const chunk = pending[next++] as Chunk;
      writerCalls++;
      let line: JournalLine;
      try {
        const instructions = await options.writer.write(chunk, options.perChunk, options.signal);
        line = { chunkId: chunk.id, instructions };
      } catch (error) {
        if (options.signal?.aborted) throw error;
        if (isUnreachableError(error)) {
          unreachable ??= error;
          return;
        }
        failedChunks++;
        lastFailure = (error as Error).message;
        line = { chunkId: chunk.id, instructions: [], failed: (error as Error).message };
      }
      await appendFile(journalPath, `${JSON.stringify(line)}\n`);
      if (line.failed === undefined) done.set(chunk.id, line);
      pairs += line.instructions.length;
      finished++;
      report();
    }
  }
  report();
  await Promise.all(Array.from({ length: Math.max(1, options.concurrency) }, worker));
  if (unreachable !== undefined) throw unreachable;

  if (failedChunks > 0)
    throw new AppError(
      "upstream_error",
      `${failedChunks} of ${chunks.length} chunks failed (${lastFailure}); no dataset written. Run the same command again: the ${finished - failedChunks} finished chunks are kept and only the failed ones are retried`,
      { details: { failedChunks, chunks: chunks.length } },
    );
  const raw: InstructPair[] = [];
  for (const chunk of chunks)
    for (const instruction of done.get(chunk.id)?.instructions ?? [])
      raw.push({ instruction, output: chunk.text, chunkId: chunk.id, author: chunk.author.fullName });
  const { train, test, counts } = filterPairs(raw, filters);
  const written = await writeDatasetArtifact(options.artifactsDirectory, {
    kind: "instruct",
    parent: source.manifest.version,
    lineage: { documents: source.manifest.version, traces: null },
    generator,
    counts: { chunks: chunks.length, failedChunks, ...counts },
    files: [
      { name: "train.messages.jsonl", lines: train.map(toMessagesLine) },
      { name: "test.messages.jsonl", lines: test.map(toMessagesLine) },
      { name: "train.alpaca.jsonl", lines: train.map(toAlpacaLine) },
      { name: "test.alpaca.jsonl", lines: test.map(toAlpacaLine) },
    ],
    ...(options.now === undefined ? {} : { now: options.now }),
  });
  await rm(journalPath, { force: true });
  return {
    ...written,
    chunks: chunks.length,
    resumedChunks,
    writerCalls,
    failedChunks,
    seconds: (performance.now() - started) / 1000,
  };
}
