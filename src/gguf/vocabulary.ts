/**
 * A SentencePiece-style ("llama" tokenizer model) vocabulary for generated test models:
 * special tokens, the 256 byte-fallback tokens, single characters, then words together with all
 * their prefixes (SentencePiece merges adjacent pieces only into pieces that exist in the
 * vocabulary, so every prefix must exist for a whole word to be reachable), then pseudo-words until
 * the requested size is reached.
 */

export const TOKEN_TYPE = {
  normal: 1,
  unknown: 2,
  control: 3,
  userDefined: 4,
  unused: 5,
  byte: 6,
} as const;

export type Vocabulary = {
  tokens: string[];
  scores: number[];
  tokenTypes: number[];
  unknownTokenId: number;
  bosTokenId: number;
  eosTokenId: number;
  imStartTokenId: number;
  imEndTokenId: number;
};

/** SentencePiece's visible space. */
const SPACE = "\u2581";

const WORDS = `hello world model the of and to in is that it for on with as was be by this are or at from have an not
but all they which one you were her she there would their we him been has when who will more no if
out so said what up its about into than them can only other new some could time these two may then
do first any my now such like our over man me even most made after also did many before must through
back years where much your way well down should because each just those people how too little state
good very make world still own see men work long get here between both life being under never day
same another know while last might us great old year off come since against go came right used take
three language twin vector search query answer article post repository author content
writer data pipeline feature training inference retrieval context token prompt chat system user
assistant document chunk embedding store rank score fast slow small large test value number list
name text word code python node server client request response stream batch queue error limit
rag llm gguf json paul maxime iusztin labonne engineer engineering machine learning deep network
neural layer weight sample random seed generate write read clean split merge index filter hybrid
dense lexical cross encoder decoder attention head`
  .split(/\s+/)
  .filter((word) => word.length > 0);

const CONSONANTS = "bcdfghjklmnprstvwz";
const VOWELS = "aeiou";

function* pseudoWords(): Generator<string> {
  for (let length = 2; ; length += 1) {
    const syllables: string[] = [];
    for (const consonant of CONSONANTS) for (const vowel of VOWELS) syllables.push(consonant + vowel);
    const total = syllables.length ** length;
    for (let index = 0; index < total; index += 1) {
      let remainder = index;
      let word = "";
      for (let position = 0; position < length; position += 1) {
        word += syllables[remainder % syllables.length];
        remainder = Math.floor(remainder / syllables.length);
      }
      yield word;
    }
  }
}

export function buildVocabulary(size: number): Vocabulary {
  const tokens: string[] = [];
  const tokenTypes: number[] = [];
  const seen = new Set<string>();
  const add = (token: string, type: number): void => {
    if (seen.has(token) || tokens.length >= size) return;
    seen.add(token);
    tokens.push(token);
    tokenTypes.push(type);
  };
  add("<unk>", TOKEN_TYPE.unknown);
  add("<s>", TOKEN_TYPE.control);
  add("</s>", TOKEN_TYPE.control);
  add("<|im_start|>", TOKEN_TYPE.control);
  add("<|im_end|>", TOKEN_TYPE.control);
  for (let byte = 0; byte < 256; byte += 1) {
    add(`<0x${byte.toString(16).toUpperCase().padStart(2, "0")}>`, TOKEN_TYPE.byte);
  }
  const minimum = 5 + 256 + 1;
  if (size < minimum) {
    throw new Error(`vocabularySize must be at least ${minimum} (specials, 256 byte tokens, "${SPACE}")`);
  }
  add(SPACE, TOKEN_TYPE.normal);
  for (let code = 33; code < 127; code += 1) add(String.fromCharCode(code), TOKEN_TYPE.normal);
  const addWithPrefixes = (word: string): void => {
    const piece = SPACE + word;
    for (let end = 2; end <= piece.length; end += 1) add(piece.slice(0, end), TOKEN_TYPE.normal);
  };
  for (const word of WORDS) addWithPrefixes(word);
  const generator = pseudoWords();
  while (tokens.length < size) addWithPrefixes(generator.next().value as string);
  // Higher score = merged first; earlier (shorter, more common) pieces win.
  const scores = tokens.map((_, index) => -index);
  return {
    tokens,
    scores,
    tokenTypes,
    unknownTokenId: 0,
    bosTokenId: 1,
    eosTokenId: 2,
    imStartTokenId: 3,
    imEndTokenId: 4,
  };
}

/** ChatML, as Qwen and many fine-tunes ship it. */
export const CHATML_TEMPLATE =
  "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}{% endfor %}" +
  "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

/** The reranking prompt (Qwen3-Reranker style, shortened); llama.cpp fills {query} and {document}. */
export const RERANK_TEMPLATE =
  "<|im_start|>user\nQuery: {query}\nDocument: {document}<|im_end|>\n<|im_start|>assistant\n";
