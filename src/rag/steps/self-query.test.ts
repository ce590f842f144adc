import { describe, expect, it } from "vitest";
import { fakeLanguageModel, MAXIME, PAUL, ZOE } from "../testing/fakes.js";
import { createSelfQueryStep, findKnownAuthor, matchAuthor, parseAuthorAnswer } from "./self-query.js";

const authors = [PAUL, MAXIME, ZOE];

describe("matchAuthor", () => {
  it("finds a full name, case- and accent-insensitively", () => {
    expect(matchAuthor("My name is Paul Iusztin. Draft a post.", authors)).toEqual(PAUL);
    expect(matchAuthor("write in the style of MAXIME labonne", authors)).toEqual(MAXIME);
    expect(matchAuthor("an article by zoe andrade about pasta", authors)).toEqual(ZOE);
  });

  it("takes the earliest mention when several authors are named", () => {
    expect(matchAuthor("Maxime Labonne answers Paul Iusztin", authors)).toEqual(MAXIME);
  });

  it("accepts an unambiguous first or last name", () => {
    expect(matchAuthor("What would Iusztin say about RAG?", authors)).toEqual(PAUL);
    expect(matchAuthor("Maxime's view on merging", authors)).toEqual(MAXIME);
  });

  it("rejects a first name shared by two authors", () => {
    const twoPauls = [PAUL, { id: "other", fullName: "Paul Smith" }];
    expect(matchAuthor("What does Paul think?", twoPauls)).toBeUndefined();
    expect(matchAuthor("What does Paul Smith think?", twoPauls)?.id).toBe("other");
  });

  it("finds nobody for unknown names or partial words", () => {
    expect(matchAuthor("My name is John Doe", authors)).toBeUndefined();
    expect(matchAuthor("Pauline writes about Labon", authors)).toBeUndefined();
    expect(matchAuthor("", authors)).toBeUndefined();
  });
});

describe("findKnownAuthor", () => {
  it("finds by id or normalised full name, never invents one", () => {
    expect(findKnownAuthor("author-paul", authors)).toEqual(PAUL);
    expect(findKnownAuthor("  maxime LABONNE ", authors)).toEqual(MAXIME);
    expect(findKnownAuthor("Nobody Known", authors)).toBeUndefined();
  });
});

describe("parseAuthorAnswer", () => {
  it("accepts only known ids", () => {
    expect(parseAuthorAnswer('{"authorId": "author-maxime"}', authors)).toEqual(MAXIME);
    expect(parseAuthorAnswer('noise {"authorId": null} noise', authors)).toBeUndefined();
    expect(parseAuthorAnswer('{"authorId": "new-person"}', authors)).toBeUndefined();
    expect(parseAuthorAnswer("\u0000garbage{", authors)).toBeUndefined();
  });
});

describe("createSelfQueryStep", () => {
  it("uses matching first and does not call the LLM when a name matches", async () => {
    const llm = fakeLanguageModel();
    const step = createSelfQueryStep({ llm, maxNewTokens: 20 });
    expect(await step("I am Paul Iusztin", authors, { mode: "llm" })).toEqual({ author: PAUL, source: "match" });
    expect(llm.requests).toHaveLength(0);
  });

  it("asks the LLM under a grammar limited to known ids and null in llm mode", async () => {
    const llm = fakeLanguageModel();
    llm.defaultText = '{"authorId":"author-zoe"}';
    const step = createSelfQueryStep({ llm, maxNewTokens: 20 });
    expect(await step("the pasta blogger", authors, { mode: "llm" })).toEqual({ author: ZOE, source: "llm" });
    const schema = llm.requests[0]?.jsonSchema as { properties: { authorId: { enum: unknown[] } } };
    expect(schema.properties.authorId.enum).toEqual(["author-paul", "author-maxime", "author-zoe", null]);
  });

  it("does not call the LLM in match mode, nor do anything when off", async () => {
    const llm = fakeLanguageModel();
    const step = createSelfQueryStep({ llm, maxNewTokens: 20 });
    expect((await step("the pasta blogger", authors, { mode: "match" })).author).toBeUndefined();
    expect((await step("I am Paul Iusztin", authors, { mode: "off" })).author).toBeUndefined();
    expect(llm.requests).toHaveLength(0);
  });
});
