/**
 * `llm-twin dataset preferences`: DPO pairs (`prompt` / `chosen` / `rejected`) from RAG traces with
 * feedback. Two inputs, alone or together: the RAG service's feedback store (`POST /feedback`: each
 * entry holds its rating and a snapshot of the answer's trace; a JSON Lines file or Redis), and a
 * traces JSON Lines file (the RAG service's `--trace-file`) where feedback is a `feedback` field on
 * a trace line, or a separate line `{"traceId", "rating"}` (docs/datasets.md). A rating is
 * "like" / "dislike" (or "up" / "down", 1 / -1). Feedback from the store wins over the file's.
 *
 * Rejected = a disliked answer. Chosen = a liked answer to the same question (equal after
 * normalising case, punctuation and spaces): `chosen_source: "liked_answer"`; when none exists, the
 * author's own text the disliked request retrieved first: `chosen_source: "author_source"`.
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { createInterface } from "node:readline";
import { AppError } from "../errors/index.js";
import { canonicalJson, sha256Hex } from "../preprocessing/index.js";
import type { FeedbackEntry } from "../rag/feedback/store.js";
import { type DatasetManifest, writeDatasetArtifact } from "./artifact.js";

export const PREFERENCES_TEMPLATE_VERSION = "preferences-v1";

type Rating = "like" | "dislike";
type TraceSample = { id: string; startTime: number; query: string; answer: string; source?: string; rating?: Rating };
export type PreferencePair = {
  prompt: string;
  chosen: string;
  rejected: string;
  chosen_source: "liked_answer" | "author_source";
  rejected_trace: string;
  chosen_trace: string | null;
};

function ratingOf(value: unknown): Rating | undefined {
  if (value === "like" || value === "up" || value === 1 || value === "1" || value === true) return "like";
  if (value === "dislike" || value === "down" || value === -1 || value === "-1" || value === false) return "dislike";
  return undefined;
}

/** `7d`, `12h`, `30m` → milliseconds. */
export function parseSince(text: string): number {
  const match = /^(\d+)\s*([dhm])$/.exec(text.trim());
  if (match === null)
    throw new AppError("configuration_error", `--since ${text}: expected a duration like 7d, 12h or 30m`);
  return Number(match[1]) * { d: 86_400_000, h: 3_600_000, m: 60_000 }[match[2] as "d" | "h" | "m"];
}

type Attributes = Record<string, unknown>;
type TraceLine = {
  id?: string;
  traceId?: string;
  startTime?: number;
  attributes?: Attributes;
  spans?: { attributes?: Attributes }[];
  feedback?: { rating?: unknown } | unknown;
  rating?: unknown;
};

function attribute(line: TraceLine, key: string): unknown {
  if (line.attributes?.[key] !== undefined) return line.attributes[key];
  return line.spans?.find((span) => span.attributes?.[key] !== undefined)?.attributes?.[key];
}

function firstSourceText(line: TraceLine): string | undefined {
  const chunks = attribute(line, "retrievedChunks");
  if (!Array.isArray(chunks)) return undefined;
  const first = chunks[0] as { text?: unknown; content?: unknown } | string | undefined;
  if (typeof first === "string") return first;
  const text = first?.text ?? first?.content;
  return typeof text === "string" ? text : undefined;
}

export async function readFeedbackTraces(
  file: string,
): Promise<{ samples: TraceSample[]; lines: number; malformed: number; sha256: string }> {
  const byId = new Map<string, TraceSample>();
  const ratings = new Map<string, Rating>();
  let lines = 0;
  let malformed = 0;
  // The file's sha256 (recorded in the manifest) is hashed from the bytes read here: one read, not two.
  const input = createReadStream(file);
  const hash = createHash("sha256");
  input.on("data", (chunk) => hash.update(chunk));
  const reader = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  for await (const text of reader) {
    if (text.trim() === "") continue;
    lines++;
    let line: TraceLine;
    try {
      line = JSON.parse(text) as TraceLine;
    } catch {
      malformed++;
      continue;
    }
    const feedback = (line.feedback as { rating?: unknown } | undefined)?.rating ?? line.rating;
    if (line.traceId !== undefined && line.spans === undefined && line.attributes === undefined) {
      const rating = ratingOf(feedback);
      if (rating !== undefined) ratings.set(line.traceId, rating);
      else malformed++;
      continue;
    }
    const query = attribute(line, "query");
    const answer = attribute(line, "answer");
    if (typeof line.id !== "string" || typeof query !== "string" || typeof answer !== "string") {
      malformed++;
      continue;
    }
    const rating = ratingOf(feedback);
    const source = firstSourceText(line);
    byId.set(line.id, {
      id: line.id,
      startTime: typeof line.startTime === "number" ? line.startTime : 0,
      query,
      answer,
      ...(source === undefined ? {} : { source }),
      ...(rating === undefined ? {} : { rating }),
    });
  }
  for (const [id, rating] of ratings) {
    const sample = byId.get(id);
    if (sample !== undefined) sample.rating = rating;
  }
  return { samples: [...byId.values()], lines, malformed, sha256: hash.digest("hex") };
}

/**
 * Samples from the feedback store's entries (newest first, as the store lists them): a trace rated
 * more than once keeps its newest rating.
 */
export function samplesFromFeedback(entries: readonly FeedbackEntry[]): { samples: TraceSample[]; malformed: number } {
  const byId = new Map<string, TraceSample>();
  let malformed = 0;
  for (const entry of entries) {
    if (byId.has(entry.traceId)) continue;
    const line = entry.trace as TraceLine;
    const query = attribute(line, "query");
    const answer = attribute(line, "answer");
    const rating = ratingOf(entry.rating);
    if (typeof query !== "string" || typeof answer !== "string" || rating === undefined) {
      malformed++;
      continue;
    }
    const source = firstSourceText(line);
    const startTime = typeof line.startTime === "number" ? line.startTime : Date.parse(entry.createdAt) || 0;
    byId.set(entry.traceId, {
      id: entry.traceId,
      startTime,
      query,
      answer,
      rating,
      ...(source === undefined ? {} : { source }),
    });
  }
  return { samples: [...byId.values()], malformed };
}

/** The file's samples and the store's, by trace id; the store's rating wins for a trace in both. */
function mergeSamples(fromFile: readonly TraceSample[], fromStore: readonly TraceSample[]): TraceSample[] {
  const byId = new Map(fromFile.map((sample) => [sample.id, sample]));
  for (const sample of fromStore) {
    const known = byId.get(sample.id);
    const source = sample.source ?? known?.source;
    byId.set(sample.id, { ...known, ...sample, ...(source === undefined ? {} : { source }) });
  }
  return [...byId.values()];
}

const questionKey = (text: string) =>
  text
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s]/gu, " ")
    .replace(/\s+/g, " ")
    .trim();

export function buildPreferencePairs(samples: readonly TraceSample[]): { pairs: PreferencePair[]; unpaired: number } {
  const liked = new Map<string, TraceSample>();
  for (const sample of samples)
    if (sample.rating === "like" && !liked.has(questionKey(sample.query))) liked.set(questionKey(sample.query), sample);
  const pairs: PreferencePair[] = [];
  let unpaired = 0;
  for (const sample of samples) {
    if (sample.rating !== "dislike") continue;
    const good = liked.get(questionKey(sample.query));
    if (good !== undefined && good.answer.trim() !== sample.answer.trim()) {
      pairs.push({
        prompt: sample.query,
        chosen: good.answer,
        rejected: sample.answer,
        chosen_source: "liked_answer",
        rejected_trace: sample.id,
        chosen_trace: good.id,
      });
    } else if (sample.source !== undefined) {
      pairs.push({
        prompt: sample.query,
        chosen: sample.source,
        rejected: sample.answer,
        chosen_source: "author_source",
        rejected_trace: sample.id,
        chosen_trace: null,
      });
    } else unpaired++;
  }
  return { pairs, unpaired };
}

export type PreferencesOptions = {
  artifactsDirectory: string;
  /** A traces JSON Lines file with feedback. */
  tracesFile?: string;
  /** The feedback store's entries (newest first) and where they came from (no secrets). */
  feedback?: { entries: readonly FeedbackEntry[]; store: string };
  /** Only traces started at most this long ago (ms). */
  sinceMs?: number;
  sinceText?: string;
  testFraction: number;
  now?: () => Date;
};

export async function generatePreferenceDataset(
  options: PreferencesOptions,
): Promise<{ manifest: DatasetManifest; path: string; created: boolean }> {
  if (options.tracesFile === undefined && options.feedback === undefined)
    throw new AppError(
      "configuration_error",
      "no input: read the feedback store (--from-traces, --feedback-file or --feedback-store) or a traces file (--traces <file.jsonl>)",
    );
  const now = (options.now ?? (() => new Date()))();
  let fromFile: { samples: TraceSample[]; lines: number; malformed: number; sha256: string } | undefined;
  if (options.tracesFile !== undefined) {
    const info = await stat(options.tracesFile).catch(() => undefined);
    if (info === undefined)
      throw new AppError(
        "not_found",
        `no traces file ${options.tracesFile} (start serve-rag with --trace-file, or pass --traces <file.jsonl>)`,
      );
    if (info.isDirectory())
      throw new AppError(
        "bad_request",
        `--traces ${options.tracesFile} is a folder: give the trace log file (JSON Lines, written by serve-rag --trace-file)`,
      );
    fromFile = await readFeedbackTraces(options.tracesFile);
    // Not one line is a trace or a rating: the wrong file, not an empty dataset.
    if (fromFile.lines > 0 && fromFile.malformed === fromFile.lines)
      throw new AppError(
        "bad_request",
        `none of the ${fromFile.lines} line(s) of --traces ${options.tracesFile} is a trace or a rating: give the trace log of serve-rag --trace-file (JSON Lines)`,
      );
  }
  const fromStore = options.feedback === undefined ? undefined : samplesFromFeedback(options.feedback.entries);
  const samples = mergeSamples(fromFile?.samples ?? [], fromStore?.samples ?? []);
  const lines = (fromFile?.lines ?? 0) + (options.feedback?.entries.length ?? 0);
  const malformed = (fromFile?.malformed ?? 0) + (fromStore?.malformed ?? 0);
  const recent =
    options.sinceMs === undefined
      ? samples
      : samples.filter((sample) => sample.startTime >= now.getTime() - (options.sinceMs ?? 0));
  const { pairs, unpaired } = buildPreferencePairs(recent);
  const train: string[] = [];
  const test: string[] = [];
  for (const pair of pairs) {
    const bucket = Number.parseInt(sha256Hex(`${pair.rejected_trace}\n${pair.prompt}`).slice(0, 8), 16) / 0x1_0000_0000;
    (bucket < options.testFraction ? test : train).push(`${JSON.stringify(pair)}\n`);
  }
  const since = options.sinceText ?? null;
  return writeDatasetArtifact(options.artifactsDirectory, {
    kind: "preferences",
    parent: null,
    lineage: {
      documents: null,
      traces:
        options.tracesFile === undefined || fromFile === undefined
          ? null
          : { file: options.tracesFile, sha256: fromFile.sha256, since },
      ...(options.feedback === undefined
        ? {}
        : {
            feedback: {
              store: options.feedback.store,
              entries: options.feedback.entries.length,
              sha256: sha256Hex(canonicalJson(options.feedback.entries)),
              since,
            },
          }),
    },
    generator: {
      model: null,
      promptTemplateVersion: PREFERENCES_TEMPLATE_VERSION,
      parameters: { testFraction: options.testFraction },
    },
    counts: {
      traceLines: lines,
      malformed,
      traces: samples.length,
      inWindow: recent.length,
      liked: recent.filter((sample) => sample.rating === "like").length,
      disliked: recent.filter((sample) => sample.rating === "dislike").length,
      pairs: pairs.length,
      fromLikedAnswers: pairs.filter((pair) => pair.chosen_source === "liked_answer").length,
      fromAuthorSources: pairs.filter((pair) => pair.chosen_source === "author_source").length,
      unpaired,
      train: train.length,
      test: test.length,
    },
    files: [
      { name: "train.preferences.jsonl", lines: train },
      { name: "test.preferences.jsonl", lines: test },
    ],
    now: () => now,
  });
}
