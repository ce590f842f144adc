/**
 * `npm run bench -- preprocessing [--rounds N]`: cleaning + chunking cost per chunk (no embedding,
 * no store) on the 76 LLM Twin articles and on SciFact's 5,183 abstracts, with the static
 * embedder's tokenizer (512-token limit). Reports wall time (best and median of N rounds) and the
 * CPU time of the process (robust when other processes share the two cores).
 */
import { readFileSync } from "node:fs";
import type { RawDocument } from "../../src/domain/index.js";
import { countTokens } from "../../src/embedding/static/index.js";
import { readBeirCorpus } from "../../src/eval/beir/corpus.js";
import { parseRecord } from "../../src/ingestion/readers/index.js";
import { chunkDocument, cleanDocument } from "../../src/preprocessing/index.js";
import { requireSharedDataset } from "../../src/testing/shared-datasets.js";

export const name = "preprocessing";
export const description = "cleaning + chunking cost per chunk on the LLM Twin articles and SciFact abstracts";

const tokenizer = { countTokens, maxInputTokens: 512 };

type Measure = {
  corpus: string;
  documents: number;
  characters: number;
  chunks: number;
  bestMs: number;
  medianMs: number;
  bestCpuMs: number;
};

function cpuMs(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
}

function measure(corpus: string, documents: readonly RawDocument[], rounds: number): Measure {
  const times: number[] = [];
  let bestCpuMs = Number.POSITIVE_INFINITY;
  let chunks = 0;
  for (let round = 0; round < rounds; round++) {
    const start = performance.now();
    const startCpu = cpuMs();
    let count = 0;
    for (const document of documents)
      count += chunkDocument(cleanDocument(document, { sourceHash: "" }), tokenizer).length;
    bestCpuMs = Math.min(bestCpuMs, cpuMs() - startCpu);
    times.push(performance.now() - start);
    chunks = count;
  }
  times.sort((left, right) => left - right);
  let characters = 0;
  for (const document of documents) if (document.category === "articles") characters += document.content.length;
  const medianMs = times[Math.floor(times.length / 2)] ?? 0;
  return { corpus, documents: documents.length, characters, chunks, bestMs: times[0] ?? 0, medianMs, bestCpuMs };
}

function report(result: Measure): void {
  const wallPerChunk = (result.bestMs / result.chunks) * 1000;
  const cpuPerChunk = (result.bestCpuMs / result.chunks) * 1000;
  process.stdout.write(
    `${result.corpus}: ${result.documents} documents, ${(result.characters / 1e6).toFixed(2)} M characters → ${result.chunks} chunks; ` +
      `wall best ${result.bestMs.toFixed(1)} ms (median ${result.medianMs.toFixed(1)} ms) = ${wallPerChunk.toFixed(1)} µs/chunk; ` +
      `CPU best ${result.bestCpuMs.toFixed(1)} ms = ${cpuPerChunk.toFixed(1)} µs/chunk ` +
      `(${Math.round(result.chunks / (result.bestCpuMs / 1000))} chunks/s per core)\n`,
  );
}

export async function run(args: string[]): Promise<void> {
  const roundsFlag = args.indexOf("--rounds");
  const rounds = roundsFlag >= 0 ? Number(args[roundsFlag + 1] ?? 10) : 10;
  const articlesPath = requireSharedDataset("llm-twin", "articles.json");
  if (articlesPath !== undefined) {
    const records = JSON.parse(readFileSync(articlesPath, "utf8")) as unknown[];
    const articles = records.flatMap((record) => {
      const parsed = parseRecord(record);
      return parsed.ok ? [parsed.document] : [];
    });
    report(measure("llm-twin articles", articles, rounds));
  }
  const scifactPath = requireSharedDataset("scifact", "corpus.jsonl.gz");
  if (scifactPath !== undefined) {
    const abstracts: RawDocument[] = [];
    for await (const document of readBeirCorpus(scifactPath)) abstracts.push(document);
    report(measure("scifact abstracts", abstracts, rounds));
  }
}
