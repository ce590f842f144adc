/**
 * A stylometric model of each author's voice, built from the author's own documents.
 *
 * Features: relative frequencies of function words and of the most frequent character n-grams,
 * z-scored with the mean and standard deviation over the training documents (Burrows). Each
 * author's profile is the mean z-vector of their documents. A text's distance to an author is
 * - `delta`: Burrows' Delta, the mean absolute difference of z-scores, or
 * - `cosine-delta` (Smith & Aldridge 2011): 1 − cosine of the z-vectors,
 * averaged over the two feature families. Distances become probability-like scores with a softmax
 * whose temperature is calibrated by leave-one-document-out (the one that maximises the likelihood
 * of the true authors), so a score of 0.9 means roughly what it says on the training corpus.
 */
import { AppError } from "../../errors/index.js";
import {
  countFeatures,
  DEFAULT_NGRAM_SIZE,
  FUNCTION_WORDS,
  frequencyVector,
  mostFrequent,
  type TextCounts,
} from "./features.js";

export type VoiceMethod = "delta" | "cosine-delta";
export const VOICE_METHODS: readonly VoiceMethod[] = ["delta", "cosine-delta"];

export type VoiceModelOptions = {
  method?: VoiceMethod;
  /** Function words kept (the most frequent of the list over the training documents). Default 150. */
  words?: number;
  /** Character n-grams kept (the most frequent over the training documents). Default 300. */
  ngrams?: number;
  ngramSize?: number;
  /** Softmax temperature; default calibrated by leave-one-document-out. */
  temperature?: number;
};

/** Chosen by leave-one-out on the LLM Twin corpus (docs/evaluation.md): every nearby setting scores 0.96-0.97. */
export const DEFAULT_VOICE_OPTIONS = {
  method: "delta",
  words: 150,
  ngrams: 300,
  ngramSize: DEFAULT_NGRAM_SIZE,
} as const;

/** One training document: who wrote it and its cleaned text. */
export type VoiceDocument = { id: string; author: string; text: string; title?: string };

/** A document already counted (counting dominates the cost: leave-one-out reuses the counts). */
export type CountedDocument = {
  id: string;
  author: string;
  title?: string;
  counts: TextCounts;
  /** Answer-sized pieces of the document (`passageWords`), attributed apart in validation. */
  passages?: TextCounts[];
};

type Standardizer = { features: readonly string[]; mean: number[]; deviation: number[] };

export type VoiceModel = {
  method: VoiceMethod;
  ngramSize: number;
  authors: string[];
  documentsPerAuthor: Record<string, number>;
  temperature: number;
  words: Standardizer;
  ngrams: Standardizer;
  /** Per author: mean z-vector of the author's documents, words then n-grams. */
  profiles: Map<string, { words: number[]; ngrams: number[] }>;
};

export type VoiceScore = {
  /** The closest author. */
  author: string;
  /** Per author: distance (lower is closer) and probability-like score (sums to 1 over authors). */
  authors: { author: string; distance: number; score: number }[];
};

export function countDocuments(
  documents: readonly VoiceDocument[],
  ngramSize: number = DEFAULT_NGRAM_SIZE,
  passageWords?: number,
): CountedDocument[] {
  return documents.map((document) => ({
    id: document.id,
    author: document.author,
    ...(document.title === undefined ? {} : { title: document.title }),
    counts: countFeatures(document.text, ngramSize),
    ...(passageWords === undefined
      ? {}
      : { passages: splitPassages(document.text, passageWords).map((passage) => countFeatures(passage, ngramSize)) }),
  }));
}

/** Consecutive pieces of `words` words (the last, shorter piece is dropped unless it is the only one). */
export function splitPassages(text: string, words: number): string[] {
  const tokens = text.split(/\s+/).filter((token) => token !== "");
  const passages: string[] = [];
  for (let start = 0; start + words <= tokens.length; start += words)
    passages.push(tokens.slice(start, start + words).join(" "));
  if (passages.length === 0 && tokens.length > 0) passages.push(tokens.join(" "));
  return passages;
}

/** Builds the model; the temperature is calibrated by leave-one-out unless given. */
export function buildVoiceModel(documents: readonly VoiceDocument[], options: VoiceModelOptions = {}): VoiceModel {
  const ngramSize = options.ngramSize ?? DEFAULT_VOICE_OPTIONS.ngramSize;
  return buildFromCounted(countDocuments(documents, ngramSize), options);
}

export function buildFromCounted(documents: readonly CountedDocument[], options: VoiceModelOptions = {}): VoiceModel {
  const model = fitProfiles(documents, options, 1);
  if (options.temperature !== undefined) return model;
  return { ...model, temperature: calibrateTemperature(leaveOneOutDistances(documents, options)) };
}

/** Distances of each held-out document to each author, with models built without it. */
export function leaveOneOutDistances(
  documents: readonly CountedDocument[],
  options: VoiceModelOptions = {},
): { id: string; author: string; distances: Map<string, number>; passageDistances: Map<string, number>[] }[] {
  const perAuthor = new Map<string, number>();
  for (const document of documents) perAuthor.set(document.author, (perAuthor.get(document.author) ?? 0) + 1);
  // An author's only document cannot be held out: the model would not know the author any more.
  const heldOutIndexes = documents.flatMap((document, index) =>
    (perAuthor.get(document.author) ?? 0) > 1 ? [index] : [],
  );
  return heldOutIndexes.map((index) => {
    const heldOut = documents[index] as CountedDocument;
    const training = documents.filter((_, other) => other !== index);
    const model = fitProfiles(training, options, 1);
    return {
      id: heldOut.id,
      author: heldOut.author,
      distances: distancesOf(model, heldOut.counts),
      passageDistances: (heldOut.passages ?? []).map((passage) => distancesOf(model, passage)),
    };
  });
}

/** Scores a text against every author of the model. */
export function scoreVoice(model: VoiceModel, text: string): VoiceScore {
  return scoreFromDistances(model, distancesOf(model, countFeatures(text, model.ngramSize)));
}

/** The requested author's score and its margin over the best other author (negative: another is closer). */
export function voiceOf(model: VoiceModel, text: string, author: string) {
  const key = resolveAuthor(model, author);
  const scored = scoreVoice(model, text);
  const own = scored.authors.find((entry) => entry.author === key)?.score ?? 0;
  const others = scored.authors.filter((entry) => entry.author !== key).map((entry) => entry.score);
  return {
    author: key,
    score: own,
    margin: own - (others.length === 0 ? 0 : Math.max(...others)),
    closest: scored.author,
  };
}

/** An author name as the model spells it (case-insensitive); an unknown author is a user error. */
export function resolveAuthor(model: VoiceModel, author: string): string {
  const wanted = author.trim().toLowerCase();
  const found = model.authors.find((candidate) => candidate.toLowerCase() === wanted);
  if (found === undefined) {
    throw new AppError(
      "bad_request",
      `unknown author "${author}" for the voice model; known: ${model.authors.join(", ")}`,
    );
  }
  return found;
}

export function scoreFromDistances(model: Pick<VoiceModel, "temperature">, distances: Map<string, number>): VoiceScore {
  const entries = [...distances.entries()];
  const logits = entries.map(([, distance]) => -distance / model.temperature);
  const top = Math.max(...logits);
  const weights = logits.map((logit) => Math.exp(logit - top));
  const total = weights.reduce((sum, weight) => sum + weight, 0);
  const authors = entries.map(([author, distance], index) => ({
    author,
    distance,
    score: (weights[index] ?? 0) / total,
  }));
  const best = authors.reduce((closest, entry) => (entry.distance < closest.distance ? entry : closest));
  return { author: best.author, authors };
}

function fitProfiles(
  documents: readonly CountedDocument[],
  options: VoiceModelOptions,
  temperature: number,
): VoiceModel {
  const authors = [...new Set(documents.map((document) => document.author))].sort();
  if (authors.length < 2) {
    throw new AppError(
      "bad_request",
      `a voice model needs documents of at least 2 authors, got ${authors.length} (${authors.join(", ") || "none"})`,
    );
  }
  const counts = documents.map((document) => document.counts);
  const functionWords = new Set(FUNCTION_WORDS);
  const wordFeatures = mostFrequent(
    counts,
    (c) => ({ map: c.words, total: c.wordTotal }),
    options.words ?? DEFAULT_VOICE_OPTIONS.words,
  ).filter((word) => functionWords.has(word));
  const ngramFeatures = mostFrequent(
    counts,
    (c) => ({ map: c.ngrams, total: c.ngramTotal }),
    options.ngrams ?? DEFAULT_VOICE_OPTIONS.ngrams,
  );
  const vectors = counts.map((c) => frequencyVector(c, wordFeatures, ngramFeatures));
  const words = standardizer(
    wordFeatures,
    vectors.map((vector) => vector.words),
  );
  const ngrams = standardizer(
    ngramFeatures,
    vectors.map((vector) => vector.ngrams),
  );
  const profiles = new Map<string, { words: number[]; ngrams: number[] }>();
  const documentsPerAuthor: Record<string, number> = {};
  for (const author of authors) {
    const own = vectors.filter((_, index) => documents[index]?.author === author);
    documentsPerAuthor[author] = own.length;
    profiles.set(author, {
      words: meanVector(own.map((vector) => zScores(words, vector.words))),
      ngrams: meanVector(own.map((vector) => zScores(ngrams, vector.ngrams))),
    });
  }
  return {
    method: options.method ?? DEFAULT_VOICE_OPTIONS.method,
    ngramSize: options.ngramSize ?? DEFAULT_VOICE_OPTIONS.ngramSize,
    authors,
    documentsPerAuthor,
    temperature: options.temperature ?? temperature,
    words,
    ngrams,
    profiles,
  };
}

function distancesOf(model: VoiceModel, counts: TextCounts): Map<string, number> {
  const vector = frequencyVector(counts, model.words.features, model.ngrams.features);
  const wordZ = zScores(model.words, vector.words);
  const ngramZ = zScores(model.ngrams, vector.ngrams);
  const distance = model.method === "delta" ? meanAbsoluteDifference : cosineDistance;
  const distances = new Map<string, number>();
  for (const [author, profile] of model.profiles) {
    distances.set(author, (distance(wordZ, profile.words) + distance(ngramZ, profile.ngrams)) / 2);
  }
  return distances;
}

/** The softmax temperature that maximises the leave-one-out likelihood of the true authors. */
export function calibrateTemperature(heldOut: readonly { author: string; distances: Map<string, number> }[]): number {
  if (heldOut.length === 0) return 1;
  let best = { temperature: 1, logLikelihood: Number.NEGATIVE_INFINITY };
  for (let exponent = -4; exponent <= 1; exponent += 0.05) {
    const temperature = 10 ** exponent;
    let logLikelihood = 0;
    for (const entry of heldOut) {
      const score = scoreFromDistances({ temperature }, entry.distances).authors.find(
        (candidate) => candidate.author === entry.author,
      )?.score;
      logLikelihood += Math.log(Math.max(score ?? 0, 1e-12));
    }
    if (logLikelihood > best.logLikelihood) best = { temperature, logLikelihood };
  }
  return best.temperature;
}

function standardizer(features: readonly string[], vectors: readonly number[][]): Standardizer {
  const mean = features.map((_, index) => average(vectors.map((vector) => vector[index] ?? 0)));
  const deviation = features.map((_, index) => {
    const center = mean[index] ?? 0;
    const variance = average(vectors.map((vector) => ((vector[index] ?? 0) - center) ** 2));
    return Math.sqrt(variance);
  });
  return { features, mean, deviation };
}

function zScores(standardizer: Standardizer, values: readonly number[]): number[] {
  return values.map((value, index) => {
    const deviation = standardizer.deviation[index] ?? 0;
    return deviation === 0 ? 0 : (value - (standardizer.mean[index] ?? 0)) / deviation;
  });
}

function meanVector(vectors: readonly number[][]): number[] {
  const length = vectors[0]?.length ?? 0;
  return Array.from({ length }, (_, index) => average(vectors.map((vector) => vector[index] ?? 0)));
}

function average(values: readonly number[]): number {
  return values.length === 0 ? 0 : values.reduce((sum, value) => sum + value, 0) / values.length;
}

function meanAbsoluteDifference(left: readonly number[], right: readonly number[]): number {
  if (left.length === 0) return 0;
  let sum = 0;
  for (let index = 0; index < left.length; index++) sum += Math.abs((left[index] ?? 0) - (right[index] ?? 0));
  return sum / left.length;
}

function cosineDistance(left: readonly number[], right: readonly number[]): number {
  let dot = 0;
  let leftNorm = 0;
  let rightNorm = 0;
  for (let index = 0; index < left.length; index++) {
    const a = left[index] ?? 0;
    const b = right[index] ?? 0;
    dot += a * b;
    leftNorm += a * a;
    rightNorm += b * b;
  }
  if (leftNorm === 0 || rightNorm === 0) return 1;
  return 1 - dot / Math.sqrt(leftNorm * rightNorm);
}
