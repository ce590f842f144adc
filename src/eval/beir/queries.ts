/**
 * Readers of the rest of a BEIR dataset folder: the queries (`queries.jsonl` or
 * `queries-<split>.jsonl`, one `{_id, text}` per line) and the relevance judgments
 * (`qrels/<split>.tsv`: a header line, then `query-id  corpus-id  score`).
 */
import { createReadStream, existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { AppError } from "../../errors/index.js";

export type BeirQuery = { id: string; text: string };
/** query id → (corpus id → graded relevance > 0). */
export type BeirQrels = Map<string, Map<string, number>>;

async function* lines(file: string): AsyncIterable<{ line: string; number: number }> {
  const input = createReadStream(file);
  const reader = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  let number = 0;
  for await (const line of reader) {
    number++;
    yield { line, number };
  }
}

/** The queries file of `directory` for `split`: queries-<split>.jsonl first, then queries.jsonl. */
export function resolveBeirQueriesFile(directory: string, split: string): string {
  const candidates = [join(directory, `queries-${split}.jsonl`), join(directory, "queries.jsonl")];
  const found = candidates.find((candidate) => existsSync(candidate));
  if (found === undefined) {
    // The splits the folder does have, so the user can pick one with --split.
    const splits = existsSync(directory)
      ? readdirSync(directory)
          .map((name) => /^queries-(.+)\.jsonl$/.exec(name)?.[1])
          .filter((name): name is string => name !== undefined)
      : [];
    const hint =
      splits.length === 0 ? "" : `; this folder has split(s) ${splits.join(", ")}: pass --split ${splits[0]}`;
    throw new AppError("not_found", `no queries file in ${directory}: expected ${candidates.join(" or ")}${hint}`, {
      details: { directory, split },
    });
  }
  return found;
}

export function resolveBeirQrelsFile(directory: string, split: string): string {
  const file = join(directory, "qrels", `${split}.tsv`);
  if (!existsSync(file)) {
    throw new AppError("not_found", `no relevance judgments for split '${split}': ${file} does not exist`, {
      details: { directory, split },
    });
  }
  return file;
}

/** Every query of the file, in file order. A malformed line is an error naming the line. */
export async function readBeirQueries(file: string): Promise<BeirQuery[]> {
  const queries: BeirQuery[] = [];
  for await (const { line, number } of lines(file)) {
    if (line.trim() === "") continue;
    let record: unknown;
    try {
      record = JSON.parse(line);
    } catch (error) {
      throw new AppError("validation_error", `${file}:${number}: invalid JSON: ${(error as Error).message}`);
    }
    const { _id: id, text } = (record ?? {}) as { _id?: unknown; text?: unknown };
    if (typeof id !== "string" || id === "" || typeof text !== "string") {
      throw new AppError("validation_error", `${file}:${number}: a BEIR query needs a string _id and a string text`);
    }
    queries.push({ id, text });
  }
  return queries;
}

/** Relevance judgments; the first line is a header. Scores <= 0 are kept out (not relevant). */
export async function readBeirQrels(file: string): Promise<BeirQrels> {
  const qrels: BeirQrels = new Map();
  for await (const { line, number } of lines(file)) {
    if (number === 1 || line.trim() === "") continue;
    const [queryId, corpusId, scoreText] = line.split("\t").map((field) => field.trim());
    const score = Number(scoreText);
    if (
      queryId === undefined ||
      queryId === "" ||
      corpusId === undefined ||
      corpusId === "" ||
      !Number.isFinite(score)
    ) {
      throw new AppError("validation_error", `${file}:${number}: expected 'query-id<TAB>corpus-id<TAB>score'`);
    }
    if (score <= 0) continue;
    let judged = qrels.get(queryId);
    if (judged === undefined) {
      judged = new Map();
      qrels.set(queryId, judged);
    }
    judged.set(corpusId, score);
  }
  return qrels;
}

export type BeirSplit = {
  queriesFile: string;
  qrelsFile: string;
  /** Queries that have at least one relevant document, in file order. */
  queries: BeirQuery[];
  qrels: BeirQrels;
};

/** Queries and judgments of one split; queries without any judgment are left out (BEIR does the same). */
export async function readBeirSplit(directory: string, split: string): Promise<BeirSplit> {
  if (!existsSync(directory)) throw new AppError("not_found", `BEIR dataset folder ${directory} does not exist`);
  const queriesFile = resolveBeirQueriesFile(directory, split);
  const qrelsFile = resolveBeirQrelsFile(directory, split);
  const [all, qrels] = await Promise.all([readBeirQueries(queriesFile), readBeirQrels(qrelsFile)]);
  return { queriesFile, qrelsFile, queries: all.filter((query) => qrels.has(query.id)), qrels };
}
