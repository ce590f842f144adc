/**
 * `npm run bench -- follow-up-retrieval`
 * Follow-ups on the project's LLM Twin question set (src/eval/datasets/llm-twin-questions.json),
 * over the real corpus (static embedder, LanceDB, hybrid): each question that names nobody becomes
 * a two-turn case — turn 1 names the author of its answer ("I'm reading Maxime Labonne's
 * articles."), turn 2 is the question prefixed with "And what does he say:" (naming nobody) — and
 * is retrieved with `condense: "off"` (the deterministic carry-over alone, no LLM). Reports the
 * share of cases with the right author's source in the top 5 (target ≥ 90 %), and the answering
 * document's hit@5 with and without the history.
 */
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createEmbedder } from "../../src/embedding/index.js";
import { readLlmTwinQuestions } from "../../src/eval/index.js";
import { ingest } from "../../src/ingestion/index.js";
import { resolveRagConfig } from "../../src/rag/config.js";
import { retrieve } from "../../src/rag/retrieve.js";
import { SHARED_DATASETS_MISSING, sharedDatasetPath } from "../../src/testing/shared-datasets.js";
import { openVectorStore } from "../../src/vector-store/index.js";

export const name = "follow-up-retrieval";
export const description = "two-turn follow-ups naming nobody, condense off: right author's source in the top 5";

export async function run(): Promise<void> {
  const articles = sharedDatasetPath("llm-twin", "articles.json");
  if (articles === undefined) {
    console.log(SHARED_DATASETS_MISSING);
    return;
  }
  const authorOf = new Map(
    (JSON.parse(readFileSync(articles, "utf8")) as { _id: string; author_full_name: string }[]).map((article) => [
      article._id,
      article.author_full_name,
    ]),
  );
  const directory = await mkdtemp(join(tmpdir(), "llm-twin-bench-follow-up-"));
  try {
    const store = await openVectorStore(`lancedb:${join(directory, "store")}`);
    const embedder = await createEmbedder("static");
    await ingest({ source: articles, store, embedder });
    const config = resolveRagConfig({ expandQueries: 1, k: 5, selfQuery: "match" });
    const deps = { store, embedder, config };
    const cases = readLlmTwinQuestions().filter((question) => question.authorName === undefined);
    let rightAuthor = 0;
    let rightAuthorWithout = 0;
    let carried = 0;
    let hitWith = 0;
    let hitWithout = 0;
    let counted = 0;
    for (const question of cases) {
      const expected = [...question.judgments.keys()].map((id) => authorOf.get(id)).find((name) => name !== undefined);
      if (expected === undefined) continue;
      counted += 1;
      const history = [
        { role: "user" as const, content: `I'm reading ${expected}'s articles.` },
        { role: "assistant" as const, content: "Sure, what would you like to know?" },
      ];
      const followUp = `And what does he say: ${question.text}`;
      const withHistory = await retrieve({ query: followUp, history, condense: "off" }, deps);
      const without = await retrieve({ query: followUp }, deps);
      if (withHistory.sources.some((source) => source.author.fullName === expected)) rightAuthor += 1;
      if (without.sources.some((source) => source.author.fullName === expected)) rightAuthorWithout += 1;
      if (withHistory.authorSource === "history" && withHistory.author?.fullName === expected) carried += 1;
      if (withHistory.sources.some((source) => question.judgments.has(source.documentId))) hitWith += 1;
      if (without.sources.some((source) => question.judgments.has(source.documentId))) hitWithout += 1;
    }
    const percent = (value: number) => `${((100 * value) / counted).toFixed(1)} %`;
    console.table([
      { measure: "right author's source in top 5 (with history)", value: percent(rightAuthor) },
      { measure: "right author's source in top 5 (without history)", value: percent(rightAuthorWithout) },
      { measure: "author carried over from turn 1 (search filtered by it)", value: percent(carried) },
      { measure: "answering document in top 5, with history", value: percent(hitWith) },
      { measure: "answering document in top 5, without history", value: percent(hitWithout) },
    ]);
    console.log(`${counted} two-turn cases, condense off, hybrid, k 5 (target: right author ≥ 90 %)`);
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
}
