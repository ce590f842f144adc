import { describe, expect, it } from "vitest";
import { createSseParser, parseSseStream, type ServerSentEvent } from "./sse-parser.js";

function parseAll(chunks: readonly (string | Uint8Array)[]): ServerSentEvent[] {
  const parser = createSseParser();
  const events = chunks.flatMap((chunk) => parser.push(chunk));
  return [...events, ...parser.end()];
}

describe("SSE parser", () => {
  it("parses data events separated by blank lines", () => {
    expect(parseAll(['data: {"a":1}\n\ndata:{"b":2}\n\n'])).toEqual([
      { event: "message", data: '{"a":1}' },
      { event: "message", data: '{"b":2}' },
    ]);
  });

  it("handles CRLF and lone CR line endings, including a CRLF split across chunks", () => {
    expect(parseAll(["data: one\r\n\r\ndata: two\r\r", "data: three\r", "\n\r\n"]).map((event) => event.data)).toEqual([
      "one",
      "two",
      "three",
    ]);
  });

  it("joins multi-line data with newlines and keeps event type, id and retry", () => {
    expect(parseAll(["event: token\nid: 7\nretry: 1500\ndata: first\ndata:second\ndata\n\n"])).toEqual([
      { event: "token", data: "first\nsecond\n", id: "7", retry: 1500 },
    ]);
  });

  it("ignores comments and unknown fields, and events without data", () => {
    expect(parseAll([": keep-alive\n\nfoo: bar\n\nevent: ping\n\ndata: x\n\n"])).toEqual([
      { event: "message", data: "x" },
    ]);
  });

  it("reassembles events split at every byte, including multi-byte UTF-8 characters", () => {
    const bytes = new TextEncoder().encode('data: {"text":"héllo 👋"}\r\n\r\ndata: [DONE]\n\n');
    const chunks = [...bytes].map((byte) => new Uint8Array([byte]));
    expect(parseAll(chunks).map((event) => event.data)).toEqual(['{"text":"héllo 👋"}', "[DONE]"]);
  });

  it("strips a leading byte order mark and only one space after the colon", () => {
    expect(parseAll(["\uFEFFdata:  two spaces\n\n"]).map((event) => event.data)).toEqual([" two spaces"]);
  });

  it("delivers a last event that is not followed by a blank line", () => {
    expect(parseAll(["data: a\n\ndata: tail"]).map((event) => event.data)).toEqual(["a", "tail"]);
  });

  it("parses an async byte stream", async () => {
    async function* source() {
      yield new TextEncoder().encode("data: 1\n");
      yield new TextEncoder().encode("\ndata: 2\n\n");
    }
    const events: string[] = [];
    for await (const event of parseSseStream(source())) events.push(event.data);
    expect(events).toEqual(["1", "2"]);
  });
});
