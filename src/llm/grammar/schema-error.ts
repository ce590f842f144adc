/**
 * The one error every JSON-schema → grammar refusal uses: 422 `validation_error` naming the keyword
 * and what the converter does support, so a user can rewrite the schema.
 */
import { AppError } from "../../errors/index.js";

/** Keywords the converter enforces (see docs/llm-service.md, "Constrained output"). */
export const SUPPORTED_KEYWORDS = [
  "type",
  "enum",
  "const",
  "anyOf",
  "oneOf",
  "allOf",
  "$ref",
  "properties",
  "required",
  "additionalProperties",
  "items",
  "prefixItems",
  "additionalItems",
  "minItems",
  "maxItems",
  "uniqueItems",
  "minProperties",
  "maxProperties",
  "minLength",
  "maxLength",
  "pattern",
  "format",
  "minimum",
  "maximum",
  "exclusiveMinimum",
  "exclusiveMaximum",
  "multipleOf",
] as const;

export function unsupported(keyword: string, detail = "the grammar cannot enforce it"): AppError {
  return new AppError(
    "validation_error",
    `Input validation error: JSON schema keyword \`${keyword}\` is not supported (${detail}); supported: ${SUPPORTED_KEYWORDS.join(", ")}`,
    { details: { keyword } },
  );
}
