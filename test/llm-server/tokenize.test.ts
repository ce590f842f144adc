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

  it("the first piece keeps its leading space, as llama-server's (SentencePiece adds one before the text)", async () => {
    const pieces = (await post("/tokenize", { content: "hello world", with_pieces: true })).json.tokens as Array<{
      piece: string | number[];
    }>;
    expect(pieces.map((entry) => (typeof entry.piece === "string" ? entry.piece : "")).join("")).toBe(" hello world");
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
