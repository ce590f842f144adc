/**
 * The native streaming text pieces (native/src/stream-text.h) against the JavaScript path they
 * must equal byte for byte: V8's UTF-8 decoding, JSON.stringify, createIncrementalDetokenizer +
 * createStopMatcher as build-engine.ts runs them per token, jsonWithText and startSse's framing.
 */
import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";
import { createRandom } from "../../../gguf/random.js";
import { jsonWithText } from "../../../llm-server/sse-chunks.js";
import { createIncrementalDetokenizer, createStopMatcher } from "../text-output.js";
import { nativeAddonBuilt, nativeAddonPath } from "./addon.js";

type Format = { head: string; tail: string; dataPrefix: string; chunked: boolean };
type StreamAddon = {
  streamText(
    pieces: Buffer[],
    ends: Uint8Array,
    stops: string[],
    format: Format,
    close: boolean,
  ): { out: Buffer; text: Buffer; stopped: boolean; tokens: number };
  utf8WithReplacement(bytes: Buffer): Buffer;
  jsonString(text: string): Buffer;
};

const load = (): StreamAddon => createRequire(import.meta.url)(nativeAddonPath()) as StreamAddon;

/** What build-engine.ts's run() and the OpenAI route write for these pieces, and the final text. */
function javascriptStream(
  pieces: Buffer[],
  ends: Uint8Array,
  stops: string[],
  format: Format,
  close: boolean,
): { out: Buffer; text: string; stopped: boolean; tokens: number } {
  const detokenizer = createIncrementalDetokenizer((tokens) =>
    Buffer.concat(tokens.map((token) => pieces[token] ?? Buffer.alloc(0))).toString("utf8"),
  );
  const stopMatcher = createStopMatcher(stops);
  let out = "";
  let text = "";
  let stopped = false;
  let complete = false;
  let tokens = 0;
  for (let index = 0; index < pieces.length; index += 1) {
    tokens += 1;
    const endOfGeneration = ends[index] === 1;
    const last = endOfGeneration || ends[index] === 2;
    const raw = endOfGeneration ? detokenizer.flush() : detokenizer.push(index) + (last ? detokenizer.flush() : "");
    const piece = stopMatcher.push(raw);
    const pieceText = last && !piece.stopped ? piece.text + stopMatcher.flush() : piece.text;
    text += pieceText;
    if (pieceText.length > 0) {
      const event = `${format.dataPrefix}${format.head}${JSON.stringify(pieceText)}${format.tail}\n\n`;
      out += format.chunked ? `${Buffer.byteLength(event).toString(16)}\r\n${event}\r\n` : event;
    }
    if (piece.stopped || last) {
      stopped = piece.stopped;
      complete = true;
      break;
    }
  }
  if (close && !complete) {
    const tail = stopMatcher.push(detokenizer.flush());
    text += tail.text;
    if (tail.stopped) stopped = true;
    else text += stopMatcher.flush();
  }
  return { out: Buffer.from(out), text, stopped, tokens };
}

const FRAGMENTS = [
  "a",
  " the",
  "\n",
  '"',
  "\\",
  "\t",
  "\u0001",
  "\u001f",
  "\u007f",
  "\u2028",
  "é",
  "日本",
  "😀",
  "</s>",
  "END",
  "<|im_end|>",
  "\uFFFD",
];

/** Pieces as byte tokens: whole fragments, or their UTF-8 split anywhere, or stray bytes. */
function randomPieces(next: () => number, count: number): Buffer[] {
  const pieces: Buffer[] = [];
  while (pieces.length < count) {
    const fragment = Buffer.from(FRAGMENTS[Math.floor(next() * FRAGMENTS.length)] ?? "a");
    const roll = next();
    if (roll < 0.1) pieces.push(Buffer.from([0x80 + Math.floor(next() * 0x80)]));
    else if (roll < 0.45 && fragment.length > 1) {
      const cut = 1 + Math.floor(next() * (fragment.length - 1));
      pieces.push(fragment.subarray(0, cut), fragment.subarray(cut));
    } else pieces.push(fragment);
  }
  return pieces.slice(0, count);
}

describe.skipIf(!nativeAddonBuilt())("native streaming text", () => {
  it("decodes UTF-8 as V8 does, invalid bytes replaced", () => {
    const addon = load();
    const next = createRandom(7);
    const cases = [
      [0xe2, 0x82],
      [0xf0, 0x9f, 0x98],
      [0xed, 0xa0, 0x80],
      [0xc0, 0xaf],
      [0xf4, 0x90, 0x80, 0x80],
      [0xe0, 0x80, 0x41],
      [0xff, 0x41, 0xc3],
    ].map((bytes) => Buffer.from(bytes));
    for (let index = 0; index < 3000; index += 1) {
      const length = Math.floor(next() * 8);
      cases.push(
        Buffer.from(
          Array.from({ length }, () => (next() < 0.3 ? Math.floor(next() * 128) : 0x80 + Math.floor(next() * 128))),
        ),
      );
    }
    for (const bytes of cases) {
      expect(addon.utf8WithReplacement(bytes).toString("utf8"), bytes.toString("hex")).toBe(bytes.toString("utf8"));
      expect(addon.utf8WithReplacement(bytes).equals(Buffer.from(bytes.toString("utf8"))), bytes.toString("hex")).toBe(
        true,
      );
    }
  });

  it("escapes strings exactly as JSON.stringify", () => {
    const addon = load();
    let every = "";
    for (let code = 0; code < 0x80; code += 1) every += String.fromCharCode(code);
    for (const text of [every, "", 'say "hi"\\n', "\u2028\u2029 é 日本 😀 \uFFFD", "\u0000end"]) {
      expect(addon.jsonString(text).toString("utf8")).toBe(JSON.stringify(text));
    }
  });

  it("streams the same chunks and text as the JavaScript path", () => {
    const addon = load();
    const render = jsonWithText((text) => ({ id: "cmpl-1", choices: [{ index: 0, text, finish_reason: null }] }));
    const [head, tail] = render("\u0000HOLE\u0000").split(JSON.stringify("\u0000HOLE\u0000"));
    const stopSets = [[], ["END"], ["</s>", "\n\n"], ["<|im_end|>", "é日"], ["a a"], ["😀"], ["\uFFFD"]];
    const next = createRandom(42);
    for (let round = 0; round < 1500; round += 1) {
      const pieces = randomPieces(next, 1 + Math.floor(next() * 24));
      const ends = new Uint8Array(pieces.length);
      const endAt = Math.floor(next() * pieces.length * 1.5);
      if (endAt < pieces.length) ends[endAt] = next() < 0.5 ? 1 : 2;
      const stops = stopSets[Math.floor(next() * stopSets.length)] ?? [];
      const format: Format = {
        head: head ?? "",
        tail: tail ?? "",
        dataPrefix: next() < 0.5 ? "data: " : "data:",
        chunked: next() < 0.7,
      };
      const close = next() < 0.5;
      const expected = javascriptStream(pieces, ends, stops, format, close);
      const actual = addon.streamText(pieces, ends, stops, format, close);
      const label = JSON.stringify({ pieces: pieces.map((piece) => piece.toString("hex")), ends: [...ends], stops });
      expect(actual.out.toString("latin1"), label).toBe(expected.out.toString("latin1"));
      expect(actual.text.toString("utf8"), label).toBe(expected.text);
      expect(actual.stopped, label).toBe(expected.stopped);
      expect(actual.tokens, label).toBe(expected.tokens);
    }
  });

  it("cuts at the earliest stop across token boundaries and never emits it", () => {
    const addon = load();
    const format: Format = { head: "{", tail: "}", dataPrefix: "data: ", chunked: false };
    const pieces = ["Hel", "lo E", "N", "D world"].map((piece) => Buffer.from(piece));
    const result = addon.streamText(pieces, new Uint8Array(4), ["END", "o w"], format, true);
    expect(result.text.toString()).toBe("Hello ");
    expect(result.stopped).toBe(true);
    expect(result.tokens).toBe(4);
    expect(result.out.toString()).toBe('data: {"Hel"}\n\ndata: {"lo "}\n\n');
  });
});
