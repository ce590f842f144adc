/**
 * Checks a RAG request against the configured limits and fills in the defaults. The HTTP schema
 * checks shapes; this checks the limits (so the evaluation harness, which calls `retrieve`
 * directly, gets the same answers).
 */
import { DATA_CATEGORIES, type DataCategory, isDataCategory } from "../domain/index.js";
import { AppError } from "../errors/index.js";
import type { RagConfig } from "./config.js";
import type { HistoryTurn, RagRequest, SelfQueryMode } from "./types.js";

export type ResolvedRagRequest = {
  query: string;
  author: string | undefined;
  k: number;
  expandQueries: number;
  selfQuery: SelfQueryMode;
  categories: DataCategory[];
  maxNewTokens: number;
  temperature: number;
  /** Earlier turns, oldest first ([] without history). */
  history: HistoryTurn[];
  condense: "llm" | "off";
  /** False when the request asked to bypass the answer cache (`cache: false`). */
  cache: boolean;
};

function integerWithin(name: string, value: number | undefined, fallback: number, min: number, max: number): number {
  const chosen = value ?? fallback;
  if (!Number.isInteger(chosen) || chosen < min || chosen > max) {
    throw new AppError("validation_error", `'${name}' must be an integer from ${min} to ${max}, got ${chosen}`, {
      details: { field: name, min, max },
    });
  }
  return chosen;
}

function resolveHistory(history: unknown, config: RagConfig): HistoryTurn[] {
  if (history === undefined) return [];
  if (!Array.isArray(history)) {
    throw new AppError("validation_error", "'history' must be an array of {role, content} turns", {
      details: { field: "history" },
    });
  }
  if (history.length > config.maxHistoryTurns) {
    throw new AppError(
      "validation_error",
      `'history' has ${history.length} turns; the limit is ${config.maxHistoryTurns} (send the most recent turns, or raise --max-history-turns / LLM_TWIN_MAX_HISTORY_TURNS)`,
      { details: { field: "history", turns: history.length, limit: config.maxHistoryTurns } },
    );
  }
  let chars = 0;
  history.forEach((turn: unknown, index) => {
    const { role, content } = (turn ?? {}) as Partial<HistoryTurn>;
    if ((role !== "user" && role !== "assistant") || typeof content !== "string" || content.trim() === "") {
      throw new AppError(
        "validation_error",
        `'history[${index}]' must be {role: "user" | "assistant", content: non-empty string}`,
        { details: { field: `history[${index}]` } },
      );
    }
    chars += content.length;
  });
  if (chars > config.maxHistoryChars) {
    throw new AppError(
      "input_too_long",
      `'history' is ${chars} characters long; the limit is ${config.maxHistoryChars} (send fewer turns, or raise --max-history-chars / LLM_TWIN_MAX_HISTORY_CHARS)`,
      { details: { field: "history", length: chars, limit: config.maxHistoryChars } },
    );
  }
  return history.map((turn: HistoryTurn) => ({ role: turn.role, content: turn.content }));
}

export function resolveRagRequest(request: RagRequest, config: RagConfig): ResolvedRagRequest {
  if (typeof request.query !== "string" || request.query.trim() === "") {
    throw new AppError("validation_error", "'query' must be a non-empty string", { details: { field: "query" } });
  }
  if (request.query.length > config.maxQueryChars) {
    throw new AppError(
      "input_too_long",
      `'query' is ${request.query.length} characters long; the limit is ${config.maxQueryChars}`,
      { details: { field: "query", length: request.query.length, limit: config.maxQueryChars } },
    );
  }
  const categories = request.categories ?? config.categories;
  if (categories.length === 0 || !categories.every(isDataCategory)) {
    throw new AppError("validation_error", `'categories' must be a non-empty list of ${DATA_CATEGORIES.join(", ")}`, {
      details: { field: "categories" },
    });
  }
  const temperature = request.temperature ?? config.temperature;
  if (!Number.isFinite(temperature) || temperature < 0 || temperature > 2) {
    throw new AppError("validation_error", `'temperature' must be a number from 0 to 2, got ${temperature}`, {
      details: { field: "temperature" },
    });
  }
  const author = request.author?.trim();
  return {
    query: request.query,
    author: author === undefined || author === "" ? undefined : author,
    k: integerWithin("k", request.k, config.k, 1, config.maxK),
    expandQueries: integerWithin(
      "expandQueries",
      request.expandQueries,
      config.expandQueries,
      1,
      config.maxExpandQueries,
    ),
    selfQuery: request.selfQuery ?? config.selfQuery,
    categories: [...new Set(categories)],
    maxNewTokens: integerWithin("maxNewTokens", request.maxNewTokens, config.maxNewTokens, 1, config.maxNewTokensLimit),
    temperature,
    history: resolveHistory(request.history, config),
    condense: request.condense === "off" ? "off" : "llm",
    cache: request.cache !== false,
  };
}
