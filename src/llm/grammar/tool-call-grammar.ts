/**
 * Grammars for OpenAI-style tool calls. A call is written `{"name": <tool>, "arguments": {...}}`
 * with the arguments constrained by the tool's JSON-schema `parameters`; several calls are a JSON
 * array of them. When a call is required (tool_choice "required" or a named function) the output
 * is only that (a JSON schema, through json-schema-gbnf.ts); with "auto" the grammar admits either
 * free text (which cannot begin with `{` or `[`) or the calls.
 */
import { jsonSchemaToGbnf } from "./json-schema-gbnf.js";

export type ToolDefinition = { name: string; description?: string; parameters?: Record<string, unknown> };

/** Parameters absent: any object, as OpenAI's API treats them. */
function parametersOf(tool: ToolDefinition): Record<string, unknown> {
  return tool.parameters ?? { type: "object" };
}

/** The JSON schema of one call of `tool`. */
export function toolCallSchema(tool: ToolDefinition): Record<string, unknown> {
  return {
    type: "object",
    properties: { name: { const: tool.name }, arguments: parametersOf(tool) },
    required: ["name", "arguments"],
    additionalProperties: false,
  };
}

/**
 * The schema of what the model must write when it calls tools: one call of any of `tools`, or
 * (with `parallel`) a non-empty array of calls.
 */
export function toolCallsSchema(
  tools: readonly ToolDefinition[],
  options: { parallel: boolean },
): Record<string, unknown> {
  const calls = tools.map(toolCallSchema);
  const one = calls.length === 1 ? (calls[0] as Record<string, unknown>) : { anyOf: calls };
  if (!options.parallel) return one;
  return { anyOf: [one, { type: "array", items: one, minItems: 1 }] };
}

/**
 * GBNF for tool_choice "auto": free text that does not begin with `{` or `[` (possibly empty), or
 * the calls of toolCallsSchema.
 */
export function autoToolGrammar(tools: readonly ToolDefinition[], options: { parallel: boolean }): string {
  const calls = jsonSchemaToGbnf(toolCallsSchema(tools, options)).replace(/^root ::= /m, "tool-calls ::= ");
  return [
    "root ::= tool-calls | free-text",
    String.raw`free-text ::= ([^{[] free-rest)?`,
    String.raw`free-rest ::= [^\x00]*`,
    calls,
  ].join("\n");
}
