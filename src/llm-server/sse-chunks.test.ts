import { describe, expect, it } from "vitest";
import { jsonWithText, tgiTokenEvent } from "./sse-chunks.js";

/** Text that JSON escaping treats specially, alone and mixed. */
const TRICKY = [
  "",
  "plain",
  ' "quoted" ',
  "back\\slash\\",
  "\\u0041 is not an escape",
  "line\nbreak\r\ttab\b\f",
  "\u0000\u0001\u001f\u007f",
  "separators \u2028 and \u2029",
  "emoji 😀 and family 👨‍👩‍👧",
  "\uD83D", // first half of an emoji split across tokens
  "\uDE00", // its second half
  "\uDE00\uD83D", // reversed halves
  "é ñ 中文 ﷽",
  "</script><!-- -->",
  "\u0000llm-twin-sse-hole\u0000", // the placeholder itself, as text
  '}]},{"index":1',
];

describe("jsonWithText", () => {
  const id = "cmpl-1f0e";
  const completion = (index: number) => (text: string) => ({
    id,
    object: "text_completion",
    created: 1765000000,
    model: "bench-66m",
    choices: [{ index, text, logprobs: null, finish_reason: null }],
  });
  const chat = (text: string) => ({
    id: "chatcmpl-2",
    object: "chat.completion.chunk",
    created: 1765000000,
    model: 'adapter "quoted" \\ name',
    choices: [{ index: 0, delta: { content: text }, logprobs: null, finish_reason: null }],
  });

  it.each(TRICKY.map((text) => [JSON.stringify(text), text]))("serializes %s exactly as JSON.stringify", (_, text) => {
    for (const build of [completion(0), completion(3), chat]) {
      expect(jsonWithText(build)(text)).toBe(JSON.stringify(build(text)));
    }
  });

  it("serializes text split over tokens so that the pieces join to the whole", () => {
    const render = jsonWithText(completion(0));
    const pieces = ["😀".slice(0, 1), "😀".slice(1), "\u2028", '"', "\\"];
    const joined = pieces
      .map((piece) => (JSON.parse(render(piece)) as ReturnType<ReturnType<typeof completion>>).choices[0]?.text)
      .join("");
    expect(joined).toBe(pieces.join(""));
  });

  it("falls back to JSON.stringify when the placeholder is also elsewhere in the document", () => {
    const build = (text: string) => ({ model: "\u0000llm-twin-sse-hole\u0000", text });
    for (const text of TRICKY) expect(jsonWithText(build)(text)).toBe(JSON.stringify(build(text)));
  });
});

describe("tgiTokenEvent", () => {
  const object = (index: number, token: { id: number; text: string; logprob: number | null; special: boolean }) => ({
    index,
    token,
    generated_text: null,
    details: null,
  });

  it("serializes every token field exactly as JSON.stringify", () => {
    const logprobs = [null, 0, -0, -1.5, -0.000123456789, -1e-21, -123456.789, Number.NEGATIVE_INFINITY, Number.NaN];
    for (const text of TRICKY) {
      for (const logprob of logprobs) {
        for (const special of [false, true]) {
          const token = { id: 31999, text, logprob, special };
          expect(tgiTokenEvent(7, token)).toBe(JSON.stringify(object(7, token)));
        }
      }
    }
  });
});
