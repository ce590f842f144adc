/**
 * TGI's POST /tokenize: its generate body (`{inputs, parameters?}`) → one `{id, text, start, stop}`
 * per token the model sees for `inputs` (BOS included), `start`/`stop` being UTF-8 byte offsets in
 * `inputs` (as TGI's tokenizer offsets are) and `text` that slice of `inputs`. A token with no text
 * of its own in `inputs` (BOS, a control token's marker) has `start` = `stop` and `text` "".
 */
import type { LlamaCppEngine } from "../../llm/llama-cpp/index.js";

export type TgiSimpleToken = { id: number; text: string; start: number; stop: number };

const SPACE = 0x20;
const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

export function tgiTokenize(engine: LlamaCppEngine, inputs: string): TgiSimpleToken[] {
  const tokens = engine.tokenize(inputs, { addSpecial: true, parseSpecial: true });
  const pieces = engine.pieces(tokens);
  const bytes = Buffer.from(inputs, "utf8");
  let cursor = 0;
  return tokens.map((id, index) => {
    const raw = pieces[index] ?? "";
    const piece = typeof raw === "string" ? Buffer.from(raw, "utf8") : Buffer.from(raw);
    const start = cursor;
    if (matchesAt(bytes, piece, cursor)) cursor += piece.length;
    // SentencePiece's space before the first word (or a word after a control token) is not in `inputs`.
    else if (piece[0] === SPACE && matchesAt(bytes, piece.subarray(1), cursor)) cursor += piece.length - 1;
    return { id, text: sliceText(bytes, start, cursor), start, stop: cursor };
  });
}

function matchesAt(bytes: Buffer, piece: Buffer, offset: number): boolean {
  return piece.length > 0 && bytes.subarray(offset, offset + piece.length).equals(piece);
}

/** The text of a byte range, or "" when it cuts a character (a byte token of a split character). */
function sliceText(bytes: Buffer, start: number, stop: number): string {
  try {
    return strictUtf8.decode(bytes.subarray(start, stop));
  } catch {
    return "";
  }
}
