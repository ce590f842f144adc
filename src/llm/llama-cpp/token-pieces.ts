/**
 * /tokenize's `with_pieces`: the text each token contributes to the detokenized ids, so that the
 * pieces, joined, give back what /detokenize gives for the same ids (the content, for text the
 * tokenizer round-trips). The first token is read alone, so a SentencePiece model's dummy leading
 * space (which detokenizing drops) is not in it; every later token is read after an anchor token,
 * so its own leading space stays (a run of spaces is a run of " " pieces, never ""). A piece that
 * is not valid UTF-8 on its own (one byte of a character split over several tokens) is the array of
 * its bytes, as llama-server gives it; joining then means joining bytes.
 */

export type Piece = string | number[];

export type PieceDecoder = {
  /** llama.cpp's detokenization of the ids, control tokens rendered as text. */
  detokenize(tokens: readonly number[]): string;
  /** The token's entry in the GGUF vocabulary (`tokenizer.ggml.tokens`). */
  vocabularyEntry(token: number): string | undefined;
  /** `tokenizer.ggml.model`: "llama" (SentencePiece), "gpt2" (byte-level BPE), … */
  tokenizerModel: string | undefined;
  /** A token whose text is never stripped nor changed by what follows (BOS); the previous token when absent. */
  anchor: number | undefined;
};

const REPLACEMENT = "\uFFFD";
const utf8 = new TextDecoder("utf-8", { fatal: true });

export function tokenPieces(tokens: readonly number[], decoder: PieceDecoder): Piece[] {
  const anchorText = decoder.anchor === undefined ? "" : decoder.detokenize([decoder.anchor]);
  return tokens.map((token, index) => {
    const previous = tokens[index - 1];
    let text: string;
    if (index === 0 || previous === undefined) text = decoder.detokenize([token]);
    else if (decoder.anchor !== undefined && anchorText !== "" && !anchorText.includes(REPLACEMENT))
      text = textAfter(decoder, decoder.anchor, anchorText, token);
    else text = textAfter(decoder, previous, decoder.detokenize([previous]), token);
    if (!text.includes(REPLACEMENT)) return text;
    const bytes = tokenBytes(decoder.vocabularyEntry(token), decoder.tokenizerModel);
    if (bytes === undefined) return text;
    return validUtf8(bytes) ?? bytes;
  });
}

function textAfter(decoder: PieceDecoder, before: number, beforeText: string, token: number): string {
  const both = decoder.detokenize([before, token]);
  return both.startsWith(beforeText) ? both.slice(beforeText.length) : decoder.detokenize([token]);
}

function validUtf8(bytes: number[]): string | undefined {
  try {
    return utf8.decode(Uint8Array.from(bytes));
  } catch {
    return undefined;
  }
}

/** The raw bytes of a vocabulary entry whose text is not UTF-8 alone. */
function tokenBytes(entry: string | undefined, tokenizerModel: string | undefined): number[] | undefined {
  if (entry === undefined) return undefined;
  const byte = /^<0x([0-9A-Fa-f]{2})>$/.exec(entry);
  if (byte?.[1] !== undefined) return [Number.parseInt(byte[1], 16)];
  if (tokenizerModel !== "gpt2") return undefined;
  const bytes: number[] = [];
  for (const character of entry) {
    const value = byteLevelCharacters().get(character);
    if (value === undefined) return undefined;
    bytes.push(value);
  }
  return bytes;
}

let byteLevelTable: Map<string, number> | undefined;

/**
 * GPT-2's byte-level alphabet: printable Latin-1 bytes stand for themselves, the others are
 * shifted to U+0100 onwards in byte order. Built on first use.
 */
function byteLevelCharacters(): Map<string, number> {
  if (byteLevelTable !== undefined) return byteLevelTable;
  const table = new Map<string, number>();
  let shifted = 0;
  for (let value = 0; value < 256; value += 1) {
    const printable =
      (value >= 0x21 && value <= 0x7e) || (value >= 0xa1 && value <= 0xac) || (value >= 0xae && value <= 0xff);
    table.set(String.fromCodePoint(printable ? value : 256 + shifted++), value);
  }
  byteLevelTable = table;
  return table;
}
