/**
 * What `llm-twin eval retrieval --dataset` accepts: a BEIR-layout folder (corpus + queries + qrels),
 * or `llm-twin`, the project's own questions over the LLM Twin articles
 * (src/eval/datasets/llm-twin-questions.json) with the corpus from `--corpus` (default
 * ../shared/datasets/llm-twin/articles.json).
 */
import { existsSync, readFileSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { AppError } from "../../errors/index.js";
import type { ReadResult } from "../../ingestion/readers/index.js";
import { readRawDocuments } from "../../ingestion/readers/index.js";
import { resolveBeirCorpusFile } from "../beir/corpus.js";
import { readBeirSplit } from "../beir/queries.js";
import { readBeirCorpusWithTitles } from "../beir/title-in-text.js";
import type { EvaluationQuery, EvaluationSettings } from "./evaluate.js";

export const LLM_TWIN_DATASET = "llm-twin";
export const DEFAULT_LLM_TWIN_CORPUS = "../shared/datasets/llm-twin/articles.json";

export type EvaluationDataset = {
  name: string;
  /** Where the corpus and queries came from (for the report). */
  description: string;
  queries: EvaluationQuery[];
  /** The corpus as ingestion input (read afresh on every call). */
  readCorpus: () => AsyncIterable<ReadResult>;
  /** Settings the dataset needs (e.g. self-query for author-named questions). */
  settings: Partial<EvaluationSettings>;
};

type QuestionFile = {
  questions: { id: string; question: string; documentIds: string[]; author?: string; paraphrase?: boolean }[];
};

export function llmTwinQuestionsFile(): string {
  return join(dirname(fileURLToPath(import.meta.url)), "..", "datasets", "llm-twin-questions.json");
}

/** The project's LLM Twin questions as evaluation queries (binary relevance). */
export function readLlmTwinQuestions(
  file: string = llmTwinQuestionsFile(),
): (EvaluationQuery & { authorName?: string })[] {
  const parsed = JSON.parse(readFileSync(file, "utf8")) as QuestionFile;
  return parsed.questions.map((question) => ({
    id: question.id,
    text: question.question,
    judgments: new Map(question.documentIds.map((id) => [id, 1])),
    ...(question.author === undefined ? {} : { authorName: question.author }),
    // Questions that say what an article says in other words than it (reported apart).
    ...(question.paraphrase === true ? { tags: ["paraphrase"] } : {}),
  }));
}

export async function loadEvaluationDataset(
  dataset: string,
  options: { split?: string; corpus?: string } = {},
): Promise<EvaluationDataset> {
  if (dataset === LLM_TWIN_DATASET) {
    const corpus = resolve(options.corpus ?? DEFAULT_LLM_TWIN_CORPUS);
    if (!existsSync(corpus)) {
      throw new AppError("not_found", `the LLM Twin corpus ${corpus} does not exist (give it with --corpus)`);
    }
    return {
      name: LLM_TWIN_DATASET,
      description: `${llmTwinQuestionsFile()} over ${corpus}`,
      queries: readLlmTwinQuestions(),
      readCorpus: () => readRawDocuments(corpus),
      // Questions name their author in the text: the self-query step must find and filter by it.
      settings: { selfQuery: "match", categories: ["articles"] },
    };
  }
  const directory = resolve(dataset);
  if (!existsSync(directory)) throw new AppError("not_found", `dataset folder ${directory} does not exist`);
  const split = options.split ?? "test";
  const corpusFile = resolveBeirCorpusFile(directory);
  const { queries, qrels, queriesFile } = await readBeirSplit(directory, split);
  return {
    name: basename(directory),
    description: `BEIR ${basename(directory)} (${split}): ${corpusFile}, ${queriesFile}`,
    queries: queries.map((query) => ({ id: query.id, text: query.text, judgments: qrels.get(query.id) ?? new Map() })),
    readCorpus: () => readBeirCorpusWithTitles(corpusFile),
    settings: { selfQuery: "off", categories: ["articles"] },
  };
}
