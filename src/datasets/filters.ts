/**
 * Turning raw (instruction, answer) pairs into a clean dataset: length and quality filters, exact
 * and near-duplicate removal (Jaccard similarity of word 3-gram shingles), and a deterministic
 * train/test split by hash (the same pair always lands in the same split).
 */
import { sha256Hex } from "../preprocessing/canonical-json.js";

export type InstructPair = { instruction: string; output: string; chunkId: string; author: string };

export type FilterOptions = {
  minInstructionChars: number;
  maxInstructionChars: number;
  minOutputChars: number;
  /** Pairs whose instructions are at least this similar (0–1) are near-duplicates. */
  nearDuplicateThreshold: number;
  /** Share of pairs in the test split, 0–1. */
  testFraction: number;
};

export const DEFAULT_FILTER_OPTIONS: FilterOptions = {
  minInstructionChars: 15,
  maxInstructionChars: 400,
  minOutputChars: 100,
  nearDuplicateThreshold: 0.8,
  testFraction: 0.1,
};

export type FilterCounts = {
  generated: number;
  tooShortOrLong: number;
  lowQuality: number;
  exactDuplicates: number;
  nearDuplicates: number;
  kept: number;
  train: number;
  test: number;
};

const normalize = (text: string) =>
  text
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s]/gu, " ")
    .replace(/\s+/g, " ")
    .trim();

function shingles(text: string): Set<string> {
  const words = normalize(text).split(" ");
  const set = new Set<string>();
  if (words.length < 3) set.add(words.join(" "));
  for (let index = 0; index + 3 <= words.length; index++) set.add(words.slice(index, index + 3).join(" "));
  return set;
}

function jaccard(left: Set<string>, right: Set<string>): number {
  let shared = 0;
  for (const item of left) if (right.has(item)) shared++;
  return shared / (left.size + right.size - shared);
}

/** A low-quality instruction: too few words, a copy of the start of its answer, or template junk. */
function lowQuality(pair: InstructPair): boolean {
  const instruction = normalize(pair.instruction);
  if (instruction.split(" ").length < 3) return true;
  if (normalize(pair.output).startsWith(instruction)) return true;
  return /\b(the (extract|text|passage) (above|below)|lorem ipsum|as an ai)\b/.test(instruction);
}

export function filterPairs(
  pairs: readonly InstructPair[],
  options: FilterOptions = DEFAULT_FILTER_OPTIONS,
): { train: InstructPair[]; test: InstructPair[]; counts: FilterCounts } {
  const counts: FilterCounts = {
    generated: pairs.length,
    tooShortOrLong: 0,
    lowQuality: 0,
    exactDuplicates: 0,
    nearDuplicates: 0,
    kept: 0,
    train: 0,
    test: 0,
  };
  const seen = new Set<string>();
  const kept: { pair: InstructPair; shingles: Set<string> }[] = [];
  for (const raw of pairs) {
    const pair = { ...raw, instruction: raw.instruction.trim(), output: raw.output.trim() };
    const length = pair.instruction.length;
    if (
      length < options.minInstructionChars ||
      length > options.maxInstructionChars ||
      pair.output.length < options.minOutputChars
    ) {
      counts.tooShortOrLong++;
      continue;
    }
    if (lowQuality(pair)) {
      counts.lowQuality++;
      continue;
    }
    const key = normalize(pair.instruction);
    if (seen.has(key)) {
      counts.exactDuplicates++;
      continue;
    }
    seen.add(key);
    const own = shingles(pair.instruction);
    if (kept.some((other) => jaccard(own, other.shingles) >= options.nearDuplicateThreshold)) {
      counts.nearDuplicates++;
      continue;
    }
    kept.push({ pair, shingles: own });
  }
  const train: InstructPair[] = [];
  const test: InstructPair[] = [];
  for (const { pair } of kept) {
    const bucket =
      Number.parseInt(sha256Hex(`${pair.chunkId}\n${normalize(pair.instruction)}`).slice(0, 8), 16) / 0x1_0000_0000;
    (bucket < options.testFraction ? test : train).push(pair);
  }
  counts.kept = kept.length;
  counts.train = train.length;
  counts.test = test.length;
  return { train, test, counts };
}

/** Chat `messages` JSONL (Hugging Face / TRL SFT) and Alpaca `instruction` / `output` JSONL. */
export function toMessagesLine(pair: InstructPair): string {
  return `${JSON.stringify({
    messages: [
      { role: "user", content: pair.instruction },
      { role: "assistant", content: pair.output },
    ],
  })}\n`;
}

export function toAlpacaLine(pair: InstructPair): string {
  return `${JSON.stringify({ instruction: pair.instruction, input: "", output: pair.output })}\n`;
}
