/**
 * Checks a RAG request against the configured limits and fills in the defaults. The HTTP schema
 * checks shapes; this checks the limits (so the evaluation harness, which calls `retrieve`
 * directly, gets the same answers).
 */
import { DATA_CATEGORIES, type DataCategory, isDataCategory } from "../domain/index.js";
import { AppError } from "../errors/index.js";
import type { RagConfig } from "./config.js";
import type { RagRequest, SelfQueryMode } from "./types.js";

export type ResolvedRagRequest = {
  query: string;
  author: string | undefined;
  k: number;
  expandQueries: number;
  selfQuery: SelfQueryMode;
  categories: DataCategory[];
  maxNewTokens: number;
  temperature: number;
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
  };
}
