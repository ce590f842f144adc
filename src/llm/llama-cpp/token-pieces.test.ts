/** tokenPieces on hand-made decoders: the paths the generated SentencePiece model does not take. */
import { describe, expect, it } from "vitest";
import { type PieceDecoder, tokenPieces } from "./token-pieces.js";

/** A GPT-2 style byte-level vocabulary: "Ġ" is a space, "Ã"/"©" are the two bytes of "é". */
const GPT2_VOCABULARY = ["Ġ", "caf", "Ã", "©", "Ġok"];
const GPT2_BYTES: Record<string, number[]> = {
  Ġ: [0x20],
  caf: [0x63, 0x61, 0x66],
  Ã: [0xc3],
  "©": [0xa9],
  Ġok: [0x20, 0x6f, 0x6b],
};

function gpt2Decoder(anchor: number | undefined): PieceDecoder {
  return {
    detokenize: (tokens) =>
      Buffer.from(tokens.flatMap((token) => GPT2_BYTES[GPT2_VOCABULARY[token] ?? ""] ?? [])).toString("utf8"),
    vocabularyEntry: (token) => GPT2_VOCABULARY[token],
    tokenizerModel: "gpt2",
    anchor,
  };
}

describe("tokenPieces", () => {
  it("gives the raw bytes of a byte-level BPE token that splits a character", () => {
    expect(tokenPieces([1, 2, 3, 4], gpt2Decoder(undefined))).toEqual(["caf", [0xc3], [0xa9], " ok"]);
  });

  it("keeps each later token's leading space after the anchor; the first token is read alone", () => {
    const vocabulary = ["<s>", "▁", "▁hi"];
    // SentencePiece: "▁" is a space, dropped at the very start of a detokenization.
    const decoder: PieceDecoder = {
      detokenize: (tokens) =>
        tokens
          .map((token) => (vocabulary[token] ?? "").replaceAll("▁", " "))
          .join("")
          .replace(/^ /, ""),
      vocabularyEntry: (token) => vocabulary[token],
      tokenizerModel: "llama",
      anchor: 0,
    };
    expect(tokenPieces([1, 1, 2], decoder)).toEqual(["", " ", " hi"]);
    expect(tokenPieces([1, 1, 2], { ...decoder, anchor: undefined })).toEqual(["", " ", " hi"]);
    expect(tokenPieces([0, 2], decoder)).toEqual(["<s>", " hi"]);
  });
});
