import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { sharedDatasetPath } from "../../testing/shared-datasets.js";
import { readLlmTwinFollowUps } from "./follow-ups.js";

const NAMES = ["Maxime", "Labonne", "Paul", "Iusztin"];

describe("the LLM Twin follow-up set", () => {
  const cases = readLlmTwinFollowUps();

  it("has at least 20 two-turn cases whose follow-up names nobody and whose history names the author", () => {
    expect(cases.length).toBeGreaterThanOrEqual(20);
    expect(new Set(cases.map((item) => item.id)).size).toBe(cases.length);
    for (const item of cases) {
      expect(
        NAMES.some((name) => item.followUp.includes(name)),
        item.id,
      ).toBe(false);
      expect(item.history[0]?.role).toBe("user");
      expect(item.history[0]?.content, item.id).toContain(item.author);
    }
    // Both authors are asked about.
    expect(new Set(cases.map((item) => item.author)).size).toBe(2);
  });

  it.skipIf(sharedDatasetPath("llm-twin", "articles.json") === undefined)(
    "names answering documents written by the case's author",
    () => {
      const articles = JSON.parse(readFileSync(sharedDatasetPath("llm-twin", "articles.json") as string, "utf8")) as {
        _id: string;
        author_full_name: string;
      }[];
      const authorOf = new Map(articles.map((article) => [article._id, article.author_full_name]));
      for (const item of cases) {
        for (const id of item.documentIds) expect(authorOf.get(id), `${item.id} ${id}`).toBe(item.author);
      }
    },
  );
});
