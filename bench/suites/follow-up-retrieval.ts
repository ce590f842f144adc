/**
 * `npm run bench -- follow-up-retrieval [--no-llm]`
 * The project's follow-up set (src/eval/datasets/llm-twin-follow-ups.json) over the real LLM Twin
 * corpus (static embedder, LanceDB, hybrid, k 5, no expansion): turn 1 names the author, the
 * follow-up names nobody and is generic ("What does he say about quantization?") on topics both
 * authors cover. Each case is retrieved three ways in one run: the follow-up alone (no history),
 * with the history and `condense: "off"` (the deterministic author carry-over alone; target: the
 * right author's source in the top 5 for ≥ 90 %), and with the history and `condense: "llm"` by the
 * offline demo model (a random-weight GGUF: its rewrites are gibberish, so this shows what the
 * fallbacks and the carry-over keep, not what a real model would do; `--no-llm` skips it).
 */
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type FollowUpCase, readLlmTwinFollowUps } from "../../src/eval/index.js";
import type { LanguageModel } from "../../src/llm/index.js";
import { noopTrace } from "../../src/observability/tracing/index.js";
import { resolveRagConfig } from "../../src/rag/config.js";
import { type RagDependencies, retrieve } from "../../src/rag/retrieve.js";
import { SHARED_DATASETS_MISSING, sharedDatasetPath } from "../../src/testing/shared-datasets.js";
import { ingestArticles } from "../support/rag-bench.js";

export const name = "follow-up-retrieval";
export const description =
  "two-turn follow-ups naming nobody: right author's source in the top 5 without history, condense off, condense by the demo LLM";

type Mode = "no history" | 'history, condense "off"' | 'history, condense "llm" (demo model)';

type Tally = { rightAuthor: number; topOneAuthor: number; documentHit: number; documentCases: number; cases: number };

/** The retrieval, and the condense outcome its trace recorded (undefined without history). */
async function runCase(item: FollowUpCase, mode: Mode, deps: RagDependencies) {
  if (mode === "no history") return { result: await retrieve({ query: item.followUp }, deps), outcome: undefined };
  const condense = mode === 'history, condense "off"' ? "off" : "llm";
  let outcome: string | undefined;
  const trace = noopTrace();
  trace.setAttributes = (attributes) => {
    if (typeof attributes.condense === "string") outcome = attributes.condense;
  };
  const result = await retrieve({ query: item.followUp, history: item.history, condense }, deps, { trace });
  return { result, outcome };
}

export async function run(args: string[] = []): Promise<void> {
  const articles = sharedDatasetPath("llm-twin", "articles.json");
  if (articles === undefined) {
    console.log(SHARED_DATASETS_MISSING);
    return;
  }
  const withLlm = !args.includes("--no-llm");
  const known = new Set((JSON.parse(readFileSync(articles, "utf8")) as { _id: string }[]).map((item) => item._id));
  const cases = readLlmTwinFollowUps().map((item) => ({
    ...item,
    documentIds: item.documentIds.filter((id) => known.has(id)),
  }));
  const directory = await mkdtemp(join(tmpdir(), "llm-twin-bench-follow-up-"));
  let llm: (LanguageModel & AsyncDisposable) | undefined;
  try {
    const { store, embedder } = await ingestArticles(directory, articles);
    const config = resolveRagConfig({ expandQueries: 1, k: 5, selfQuery: "match" });
    const modes: Mode[] = ["no history", 'history, condense "off"'];
    if (withLlm) {
      const { demoModelPath } = await import("../../src/llm/demo-model.js");
      const { createLlamaCppLanguageModel } = await import("../../src/llm/llama-cpp/index.js");
      llm = await createLlamaCppLanguageModel({ modelPath: await demoModelPath(), threads: 1, parallel: 1 });
      modes.push('history, condense "llm" (demo model)');
    }
    const rows = [];
    const outcomes = new Map<string, number>();
    for (const mode of modes) {
      const deps: RagDependencies = { store, embedder, config, ...(llm === undefined ? {} : { llm }) };
      const tally: Tally = { rightAuthor: 0, topOneAuthor: 0, documentHit: 0, documentCases: 0, cases: 0 };
      for (const item of cases) {
        const { result, outcome } = await runCase(item, mode, deps);
        tally.cases += 1;
        if (result.sources.some((source) => source.author.fullName === item.author)) tally.rightAuthor += 1;
        if (result.sources[0]?.author.fullName === item.author) tally.topOneAuthor += 1;
        if (item.documentIds.length > 0) {
          tally.documentCases += 1;
          if (result.sources.some((source) => item.documentIds.includes(source.documentId))) tally.documentHit += 1;
        }
        if (mode.includes('"llm"') && outcome !== undefined) outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
      }
      const percent = (value: number, of: number) => `${((100 * value) / of).toFixed(1)} %`;
      rows.push({
        mode,
        "right author's source in top 5": percent(tally.rightAuthor, tally.cases),
        "top 1 by the right author": percent(tally.topOneAuthor, tally.cases),
        "answering document in top 5": `${percent(tally.documentHit, tally.documentCases)} of ${tally.documentCases}`,
      });
    }
    console.table(rows);
    if (outcomes.size > 0)
      console.log(
        `condense outcomes (demo model; "llm" = rewrite searched): ${JSON.stringify(Object.fromEntries(outcomes))}`,
      );
    console.log(`${cases.length} two-turn cases, hybrid, k 5, no expansion (target: condense "off" ≥ 90 %)`);
  } finally {
    await llm?.[Symbol.asyncDispose]();
    await rm(directory, { recursive: true, force: true });
  }
}
