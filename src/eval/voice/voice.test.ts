import { describe, expect, it } from "vitest";
import { isAppError } from "../../errors/index.js";
import { cleanDocument } from "../../preprocessing/index.js";
import { loadRealArticles } from "../../preprocessing/testing/real-articles.js";
import { countFeatures } from "./features.js";
import { buildVoiceModel, countDocuments, scoreVoice, type VoiceDocument, voiceOf } from "./model.js";
import { validateVoiceModel } from "./validate.js";

const TOPICS = [
  "the pipeline",
  "a vector database",
  "the model",
  "our dataset",
  "the queue",
  "an embedding",
  "the server",
];
const FORMAL = [
  "Thus, TOPIC is, in fact, rather robust; however, its configuration must be examined with care.",
  "Whereas TOPIC was once considered costly, it is therefore now regarded as indispensable.",
  "It is within TOPIC that one observes the effect; hence, the measurement shall be repeated.",
  "Upon inspection of TOPIC, one finds neither error nor omission, which is, indeed, reassuring.",
];
const CASUAL = [
  "So you just plug TOPIC in and boom, you're done! Really, it's that easy.",
  "You'll love TOPIC, trust me. I use it every day and it just works!",
  "Let's be honest: TOPIC is kinda cool. You can hack on it all weekend!",
  "Okay, so here's the trick with TOPIC: you don't need to overthink it. Just ship it!",
];

function seeded(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  };
}

function writeDocument(sentences: readonly string[], random: () => number, length: number): string {
  const parts: string[] = [];
  for (let index = 0; index < length; index++) {
    const sentence = sentences[Math.floor(random() * sentences.length)] ?? "";
    parts.push(sentence.replace("TOPIC", TOPICS[Math.floor(random() * TOPICS.length)] ?? "it"));
  }
  return parts.join(" ");
}

function syntheticCorpus(): VoiceDocument[] {
  const random = seeded(7);
  const documents: VoiceDocument[] = [];
  for (let index = 0; index < 8; index++) {
    documents.push({ id: `formal-${index}`, author: "Formal Writer", text: writeDocument(FORMAL, random, 30) });
    documents.push({ id: `casual-${index}`, author: "Casual Writer", text: writeDocument(CASUAL, random, 30) });
  }
  return documents;
}

describe("voice features", () => {
  it("counts function words per word token and character n-grams with digits folded", () => {
    const counts = countFeatures("The cat and THE dog: 42 cats.", 2);
    expect(counts.wordTotal).toBe(6);
    expect(counts.words.get("the")).toBe(2);
    expect(counts.words.get("and")).toBe(1);
    expect(counts.words.has("cat")).toBe(false);
    expect(counts.ngrams.get("00")).toBe(1);
    expect(counts.ngrams.get("th")).toBe(2);
  });
});

describe("voice model", () => {
  const corpus = syntheticCorpus();

  it("attributes every held-out document of two distinct styles (both methods)", () => {
    for (const method of ["delta", "cosine-delta"] as const) {
      const validation = validateVoiceModel(countDocuments(corpus), { method, words: 60, ngrams: 100 });
      expect(validation.accuracy).toBe(1);
      expect(validation.authors).toEqual(["Casual Writer", "Formal Writer"]);
      expect(validation.confusion).toEqual([
        [8, 0],
        [0, 8],
      ]);
      expect(validation.errors).toEqual([]);
    }
  });

  it("scores a new text: probability-like scores summing to 1, the right author closest, a positive margin", () => {
    const model = buildVoiceModel(corpus, { words: 60, ngrams: 100 });
    expect(model.temperature).toBeGreaterThan(0);
    const casual = writeDocument(CASUAL, seeded(99), 6);
    const scored = scoreVoice(model, casual);
    expect(scored.author).toBe("Casual Writer");
    expect(scored.authors.reduce((sum, entry) => sum + entry.score, 0)).toBeCloseTo(1, 9);
    const own = voiceOf(model, casual, "casual writer");
    expect(own.author).toBe("Casual Writer");
    expect(own.score).toBeGreaterThan(0.5);
    expect(own.margin).toBeGreaterThan(0);
    const wrong = voiceOf(model, casual, "Formal Writer");
    expect(wrong.margin).toBeLessThan(0);
    expect(wrong.closest).toBe("Casual Writer");
  });

  it("also attributes answer-sized passages of the held-out documents", () => {
    const validation = validateVoiceModel(countDocuments(corpus, 2, 60), { words: 60, ngrams: 100 }, 60);
    expect(validation.passages?.words).toBe(60);
    expect(validation.passages?.count).toBeGreaterThan(16);
    expect(validation.passages?.accuracy).toBe(1);
    expect(validation.passages?.perAuthor.map((entry) => entry.author)).toEqual(["Casual Writer", "Formal Writer"]);
  });

  it("holds out only documents whose author has another one", () => {
    const lonely = [...corpus, { id: "solo", author: "Solo Writer", text: "Just one text, alone." }];
    const validation = validateVoiceModel(countDocuments(lonely), { words: 60, ngrams: 100 });
    expect(validation.documents).toBe(16);
    expect(validation.authors).toContain("Solo Writer");
  });

  it("refuses an unknown author and a corpus of one author with a clear error", () => {
    const model = buildVoiceModel(corpus, { words: 60, ngrams: 100, temperature: 0.1 });
    expect(() => voiceOf(model, "text", "Nobody")).toThrow(/unknown author "Nobody".*Casual Writer, Formal Writer/);
    try {
      buildVoiceModel(corpus.filter((document) => document.author === "Formal Writer"));
      expect.unreachable();
    } catch (error) {
      expect(isAppError(error) && error.code).toBe("bad_request");
    }
  });
});

describe("voice model on the LLM Twin corpus", () => {
  const real = loadRealArticles();
  it.skipIf(real === undefined)("attributes at least 95% of held-out articles to their author", () => {
    const documents = (real?.articles ?? []).map((article) => {
      const cleaned = cleanDocument(article);
      return { id: cleaned.id, author: cleaned.author.fullName, text: cleaned.content };
    });
    expect(documents).toHaveLength(76);
    const validation = validateVoiceModel(countDocuments(documents));
    expect(validation.accuracy).toBeGreaterThanOrEqual(0.95);
    expect(validation.perAuthor.map((entry) => entry.documents)).toEqual([26, 50]);
  });
});
