/**
 * The questions of a generation evaluation: a JSON Lines file, one object per line with
 * `question` (required), `author`, `reference` (a reference answer, for context recall) and
 * `history` ([{role: "user" | "assistant", content}], oldest first), all optional; or "llm-twin",
 * the project's own questions over the LLM Twin articles. A bad line is an error naming the line.
 */
import { readFile } from "node:fs/promises";
import { z } from "zod";
import { AppError } from "../../errors/index.js";
import { LLM_TWIN_DATASET, llmTwinQuestionsFile } from "../retrieval/datasets.js";

export type GenerationQuestion = {
  id: string;
  question: string;
  author?: string;
  reference?: string;
  history?: { role: "user" | "assistant"; content: string }[];
};

const lineSchema = z.object({
  id: z.union([z.string(), z.number()]).optional(),
  question: z.string().trim().min(1, "'question' must be a non-empty string"),
  author: z.string().trim().min(1).optional(),
  reference: z.string().optional(),
  history: z
    .array(z.object({ role: z.enum(["user", "assistant"]), content: z.string() }), {
      error: "'history' must be a list of {role: user|assistant, content}",
    })
    .optional(),
});

export function parseQuestions(text: string, file: string): GenerationQuestion[] {
  const questions: GenerationQuestion[] = [];
  text.split(/\r?\n/).forEach((line, index) => {
    if (line.trim() === "") return;
    const where = `${file} line ${index + 1}`;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      throw new AppError("bad_request", `${where} is not JSON (one JSON object per line: {"question": ...})`);
    }
    const parsed = lineSchema.safeParse(value);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const field = issue?.path.join(".") ?? "";
      throw new AppError("bad_request", `${where}: ${field === "" ? "" : `${field}: `}${issue?.message ?? "invalid"}`);
    }
    const { id, question, author, reference, history } = parsed.data;
    questions.push({
      id: id === undefined ? `line-${index + 1}` : String(id),
      question,
      ...(author === undefined ? {} : { author }),
      ...(reference === undefined || reference.trim() === "" ? {} : { reference }),
      ...(history === undefined ? {} : { history }),
    });
  });
  if (questions.length === 0) throw new AppError("bad_request", `${file} has no questions`);
  return questions;
}

export async function readGenerationQuestions(source: string): Promise<GenerationQuestion[]> {
  if (source === LLM_TWIN_DATASET) {
    const parsed = JSON.parse(await readFile(llmTwinQuestionsFile(), "utf8")) as {
      questions: { id: string; question: string; author?: string }[];
    };
    return parsed.questions.map((entry) => ({
      id: entry.id,
      question: entry.question,
      ...(entry.author === undefined ? {} : { author: entry.author }),
    }));
  }
  let text: string;
  try {
    text = await readFile(source, "utf8");
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code === "EISDIR")
      throw new AppError("bad_request", `--questions ${source} is a folder: give a JSON Lines file of {question, …}`);
    throw new AppError(
      code === "ENOENT" ? "not_found" : "bad_request",
      `cannot read --questions ${source}: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }
  return parseQuestions(text, source);
}
