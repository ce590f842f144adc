/**
 * Stylometric features of a text: relative frequencies of English function words (the words an
 * author uses without thinking about the topic) and of character n-grams (spelling, punctuation,
 * morphology). Counting is done once per text; models pick and normalise the features they use.
 */

/** Closed-class English words: articles, pronouns, prepositions, conjunctions, auxiliaries, adverbs. */
// biome-ignore format: a word list reads best packed
export const FUNCTION_WORDS: readonly string[] = [
  "a", "about", "above", "across", "after", "again", "against", "all", "almost", "along", "already",
  "also", "although", "always", "am", "among", "an", "and", "another", "any", "anyone", "anything",
  "are", "around", "as", "at", "be", "because", "been", "before", "behind", "being", "below",
  "beside", "besides", "between", "beyond", "both", "but", "by", "can", "cannot", "could", "did",
  "do", "does", "doing", "done", "down", "during", "each", "either", "enough", "even", "ever",
  "every", "everything", "few", "for", "from", "further", "had", "has", "have", "having", "he",
  "her", "here", "hers", "herself", "him", "himself", "his", "how", "however", "i", "if", "in",
  "indeed", "instead", "into", "is", "it", "its", "itself", "just", "least", "less", "let", "like",
  "many", "may", "me", "might", "mine", "more", "most", "much", "must", "my", "myself", "neither",
  "never", "no", "nobody", "none", "nor", "not", "nothing", "now", "of", "off", "often", "on",
  "once", "one", "only", "onto", "or", "other", "others", "otherwise", "our", "ours", "ourselves",
  "out", "over", "own", "per", "perhaps", "quite", "rather", "really", "same", "several", "shall",
  "she", "should", "since", "so", "some", "someone", "something", "still", "such", "than", "that",
  "the", "their", "theirs", "them", "themselves", "then", "there", "therefore", "these", "they",
  "this", "those", "though", "through", "thus", "to", "together", "too", "toward", "towards",
  "under", "unless", "until", "up", "upon", "us", "very", "via", "was", "we", "well", "were",
  "what", "whatever", "when", "whenever", "where", "whereas", "whether", "which", "while", "who",
  "whom", "whose", "why", "will", "with", "within", "without", "would", "yet", "you", "your",
  "yours", "yourself", "yourselves",
];

const FUNCTION_WORD_SET = new Set(FUNCTION_WORDS);

/** Counts of one text: function words and character n-grams, with their totals. */
export type TextCounts = {
  words: Map<string, number>;
  /** All word tokens of the text (function words or not): the denominator of word frequencies. */
  wordTotal: number;
  ngrams: Map<string, number>;
  ngramTotal: number;
};

export const DEFAULT_NGRAM_SIZE = 2;

const WORD = /\p{L}+(?:['’]\p{L}+)*/gu;

/** Lower-cases, unifies apostrophes and collapses white space (so line breaks do not count as style). */
export function normalizeForStyle(text: string): string {
  return text.toLowerCase().replace(/[’‘]/g, "'").replace(/\s+/g, " ").trim();
}

export function countFeatures(text: string, ngramSize: number = DEFAULT_NGRAM_SIZE): TextCounts {
  const normalized = normalizeForStyle(text);
  const words = new Map<string, number>();
  let wordTotal = 0;
  for (const match of normalized.matchAll(WORD)) {
    wordTotal++;
    const word = match[0];
    if (FUNCTION_WORD_SET.has(word)) words.set(word, (words.get(word) ?? 0) + 1);
  }
  const ngrams = new Map<string, number>();
  let ngramTotal = 0;
  // Digits are mapped to one symbol: numbers are content, the habit of writing them is style.
  const characters = Array.from(normalized.replace(/\p{N}/gu, "0"));
  for (let start = 0; start + ngramSize <= characters.length; start++) {
    const gram = characters.slice(start, start + ngramSize).join("");
    ngrams.set(gram, (ngrams.get(gram) ?? 0) + 1);
    ngramTotal++;
  }
  return { words, wordTotal, ngrams, ngramTotal };
}

/** Relative frequency of each feature (per word for words, per n-gram for n-grams). */
export function frequencyVector(counts: TextCounts, wordFeatures: readonly string[], ngramFeatures: readonly string[]) {
  const words = wordFeatures.map((word) =>
    counts.wordTotal === 0 ? 0 : (counts.words.get(word) ?? 0) / counts.wordTotal,
  );
  const ngrams = ngramFeatures.map((gram) =>
    counts.ngramTotal === 0 ? 0 : (counts.ngrams.get(gram) ?? 0) / counts.ngramTotal,
  );
  return { words, ngrams };
}

/** The `limit` most frequent features over the given texts (by summed relative frequency). */
export function mostFrequent(
  texts: readonly TextCounts[],
  pick: (counts: TextCounts) => { map: Map<string, number>; total: number },
  limit: number,
): string[] {
  const sums = new Map<string, number>();
  for (const counts of texts) {
    const { map, total } = pick(counts);
    if (total === 0) continue;
    for (const [feature, count] of map) sums.set(feature, (sums.get(feature) ?? 0) + count / total);
  }
  return [...sums.entries()]
    .sort((left, right) => right[1] - left[1] || (left[0] < right[0] ? -1 : 1))
    .slice(0, limit)
    .map(([feature]) => feature);
}
