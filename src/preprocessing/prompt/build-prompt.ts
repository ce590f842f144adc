import { AppError } from "../../errors/index.js";
import type { LanguageModelInput } from "../../llm/port.js";
import {
  type ConversationTurn,
  formatAlpaca,
  formatHistory,
  formatRequestWithContext,
  SYSTEM_PROMPT,
} from "./templates.js";

/**
 * "chat": system + user messages, rendered by the model's own chat template.
 * "alpaca": one prompt in the Alpaca shape the fine-tuning data used (instruction = request +
 * context, as the twin was trained to answer instructions).
 * `{ custom }`: a template with `{query}` and `{context}` placeholders (both required).
 */
export type PromptTemplate = "chat" | "alpaca" | { custom: string };

export type BuildPromptInput = {
  template: PromptTemplate;
  query: string;
  /** Retrieved context, already formatted and cut to the token budget ("" when there is none). */
  context: string;
  /** Overrides the system prompt of the chat template. */
  systemPrompt?: string;
  /**
   * Earlier turns, oldest first, already cut to their budget: messages between the system prompt
   * and the request with the chat template, a "Conversation so far" block before the request otherwise.
   */
  history?: readonly ConversationTurn[];
};

const QUERY_PLACEHOLDER = "{query}";
const CONTEXT_PLACEHOLDER = "{context}";

export function buildPrompt(input: BuildPromptInput): LanguageModelInput {
  const query = requireString(input.query, "query");
  const context = requireString(input.context, "context");
  const { template } = input;
  const history = input.history ?? [];
  if (template === "chat") {
    return {
      messages: [
        { role: "system", content: input.systemPrompt ?? SYSTEM_PROMPT },
        ...history.map((turn) => ({ role: turn.role, content: turn.content })),
        { role: "user", content: formatRequestWithContext(query, context) },
      ],
    };
  }
  const request = `${formatHistory(history)}${query}`;
  if (template === "alpaca") return { prompt: formatAlpaca(formatRequestWithContext(request, context)) };
  if (typeof template === "object" && template !== null && typeof template.custom === "string") {
    validateCustomTemplate(template.custom);
    return { prompt: fillCustomTemplate(template.custom, request, context) };
  }
  throw new AppError(
    "configuration_error",
    `unknown prompt template ${JSON.stringify(template)}: use "chat", "alpaca" or { custom }`,
  );
}

/** Throws unless the template contains both `{query}` and `{context}`. */
export function validateCustomTemplate(template: string): void {
  const missing = [QUERY_PLACEHOLDER, CONTEXT_PLACEHOLDER].filter((placeholder) => !template.includes(placeholder));
  if (missing.length > 0) {
    throw new AppError(
      "configuration_error",
      `custom prompt template must contain ${missing.join(" and ")} (placeholders: {query}, {context})`,
      { details: { missing } },
    );
  }
}

/** Single pass, so a query that itself contains "{context}" is inserted literally. */
function fillCustomTemplate(template: string, query: string, context: string): string {
  return template.replace(/\{query\}|\{context\}/g, (placeholder) =>
    placeholder === QUERY_PLACEHOLDER ? query : context,
  );
}

function requireString(value: unknown, name: string): string {
  if (typeof value !== "string") {
    throw new AppError(
      "validation_error",
      `prompt ${name} must be a string, got ${value === null ? "null" : typeof value}`,
    );
  }
  return value;
}
