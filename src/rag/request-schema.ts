/**
 * The body of `POST /rag` and `POST /retrieve` as one zod schema: it validates requests at the
 * HTTP edge, documents them in OpenAPI, and is the `RagRequest` type (no hand-written copy to
 * drift from it). Field names are the public API (issue 4).
 */
import { z } from "zod";
import { DATA_CATEGORIES } from "../domain/index.js";

/** One earlier turn: the client holds the conversation (the service is stateless). */
export const historyTurnSchema = z.strictObject({
  role: z.enum(["user", "assistant"]),
  content: z.string().min(1),
});

export const ragRequestSchema = z.strictObject({
  query: z.string().min(1).describe("What to write, in the author's voice. Always used as text."),
  author: z
    .string()
    .min(1)
    .max(200)
    .describe("Author id or full name; overrides self-query. Must be an author known to the store.")
    .optional(),
  k: z.int().min(1).describe("Sources kept after reranking (default from config: 3).").optional(),
  expandQueries: z
    .int()
    .min(1)
    .describe("Queries after expansion, the original included; 1 turns expansion off (default 3).")
    .optional(),
  selfQuery: z
    .enum(["match", "llm", "off"])
    .describe("How the author is found: name matching, matching then the LLM, or not at all.")
    .optional(),
  categories: z
    .array(z.enum(DATA_CATEGORIES))
    .min(1)
    .refine((items) => new Set(items).size === items.length, "categories must not repeat")
    .describe("Categories to search (default: all).")
    .optional(),
  maxNewTokens: z.int().min(1).optional(),
  temperature: z.number().min(0).max(2).optional(),
  stream: z.boolean().describe("Answer as server-sent events (also with Accept: text/event-stream).").optional(),
  history: z
    .array(historyTurnSchema)
    .describe(
      "Earlier turns, oldest first (the client holds the conversation). Bounded by --max-history-turns and --max-history-chars (422 beyond).",
    )
    .optional(),
  condense: z
    .enum(["llm", "off"])
    .describe(
      "With history: llm (default) rewrites the question and history into one standalone question for retrieval; off searches the question as sent (the author still carries over).",
    )
    .optional(),
  cache: z
    .boolean()
    .describe(
      "false bypasses the answer cache for this request (no lookup, no store). Default true: see --cache in docs/rag-service.md.",
    )
    .optional(),
});
