/**
 * The project's two-turn follow-up set over the LLM Twin corpus
 * (src/eval/datasets/llm-twin-follow-ups.json): turn 1 names the author, the follow-up names nobody
 * and is generic, on topics both authors cover. Used by `npm run bench -- follow-up-retrieval`.
 */
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export type FollowUpCase = {
  id: string;
  /** The author the follow-up is about (named in the history only). */
  author: string;
  history: { role: "user" | "assistant"; content: string }[];
  followUp: string;
  /** The author's articles that answer it; empty when any of the author's articles does. */
  documentIds: string[];
};

export function llmTwinFollowUpsFile(): string {
  return join(dirname(fileURLToPath(import.meta.url)), "..", "datasets", "llm-twin-follow-ups.json");
}

export function readLlmTwinFollowUps(file: string = llmTwinFollowUpsFile()): FollowUpCase[] {
  return (JSON.parse(readFileSync(file, "utf8")) as { cases: FollowUpCase[] }).cases;
}
