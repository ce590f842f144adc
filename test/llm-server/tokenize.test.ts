/** POST /tokenize and POST /detokenize (llama-server's shapes) on the generated tiny model. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestService, type TestService } from "./helpers.js";

let service: TestService;
beforeAll(async () => {
  service = await startTestService();
});
afterAll(async () => {
  await service?.close();
});

async function post(url: string, payload: object): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await service.app.inject({ method: "POST", url, payload });
  return { status: response.statusCode, json: response.json() as Record<string, unknown> };
}

type Entry = { id: number; piece: string | number[] };

/** Pieces joined as bytes (a piece that is not UTF-8 alone is an array of bytes). */
function joinPieces(entries: readonly Entry[]): string {
  const parts = entries.map((entry) =>
    typeof entry.piece === "string" ? Buffer.from(entry.piece, "utf8") : Buffer.from(entry.piece),
  );
  return Buffer.concat(parts).toString("utf8");
}

describe("/tokenize and /detokenize", () => {
  it("round-trips text through token ids", async () => {
    const tokenized = await post("/tokenize", { content: "hello world" });
    expect(tokenized.status).toBe(200);
    const tokens = tokenized.json.tokens as number[];
    expect(tokens.length).toBeGreaterThan(0);
    for (const token of tokens) expect(Number.isInteger(token)).toBe(true);
    const detokenized = await post("/detokenize", { tokens });
    expect(detokenized.status).toBe(200);
    expect((detokenized.json.content as string).trim()).toBe("hello world");
  });

  it("add_special prepends BOS; with_pieces gives {id, piece} whose pieces join to the text", async () => {
    const plain = (await post("/tokenize", { content: "hello" })).json.tokens as number[];
    const special = (await post("/tokenize", { content: "hello", add_special: true })).json.tokens as number[];
    expect(special.length).toBe(plain.length + 1);
    expect(special.slice(1)).toEqual(plain);
    const pieces = (await post("/tokenize", { content: "hello world", with_pieces: true })).json.tokens as Array<{
      id: number;
      piece: string | number[];
    }>;
    expect(pieces.map((entry) => entry.id)).toEqual((await post("/tokenize", { content: "hello world" })).json.tokens);
    expect(
      pieces
        .map((entry) => (typeof entry.piece === "string" ? entry.piece : ""))
        .join("")
        .trim(),
    ).toBe("hello world");
  });

  it("each piece is the text its token contributes: pieces join back to the content", async () => {
    const contents = [
      "hello world",
      " Hello",
      "   Hello",
      "hello   world  ",
      "a\n\nb",
      "\nhello",
      "\n\n  x",
      "héllo €",
      "日本 ✓",
    ];
    for (const content of contents) {
      const entries = (await post("/tokenize", { content, with_pieces: true })).json.tokens as Entry[];
      expect(
        entries.map((entry) => entry.id),
        content,
      ).toEqual((await post("/tokenize", { content })).json.tokens);
      expect(joinPieces(entries), JSON.stringify(content)).toBe(content);
    }
  });

  it("a run of spaces is a run of ' ' pieces; a byte of a split UTF-8 character is [byte]", async () => {
    const spaces = (await post("/tokenize", { content: "hello   world", with_pieces: true })).json.tokens as Entry[];
    expect(spaces.map((entry) => entry.piece)).not.toContain("");
    const euro = (await post("/tokenize", { content: "€", with_pieces: true })).json.tokens as Entry[];
    const bytes = euro.filter((entry) => Array.isArray(entry.piece)).map((entry) => entry.piece);
    // The tiny model has no "€" token: its three UTF-8 bytes are three byte-fallback tokens.
    expect(bytes).toEqual([[0xe2], [0x82], [0xac]]);
  });

  it("with add_special the pieces join to what /detokenize gives (BOS's text first)", async () => {
    const entries = (await post("/tokenize", { content: "hello  world", add_special: true, with_pieces: true })).json
      .tokens as Entry[];
    const detokenized = await post("/detokenize", { tokens: entries.map((entry) => entry.id) });
    expect(joinPieces(entries)).toBe(detokenized.json.content);
    expect(joinPieces(entries)).toContain("hello  world");
  });

  it("control tokens written as text are parsed unless parse_special is false", async () => {
    const parsed = (await post("/tokenize", { content: "<|im_start|>" })).json.tokens as number[];
    const literal = (await post("/tokenize", { content: "<|im_start|>", parse_special: false })).json
      .tokens as number[];
    expect(parsed).toHaveLength(1);
    expect(literal.length).toBeGreaterThan(1);
  });

  it("refuses ids outside the vocabulary and malformed bodies with 422", async () => {
    const outside = await post("/detokenize", { tokens: [10_000_000] });
    expect(outside.status).toBe(422);
    expect(JSON.stringify(outside.json)).toContain("not in the vocabulary");
    expect((await post("/tokenize", { text: "x" })).status).toBe(422);
    expect((await post("/detokenize", { tokens: [-1] })).status).toBe(422);
  });
});
