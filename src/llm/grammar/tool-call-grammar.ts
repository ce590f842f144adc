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

/** `schema` with every local `$ref` ("#…") made relative to `base` (a JSON pointer such as "#/$defs/x"). */
function rebased(schema: unknown, base: string): unknown {
  if (Array.isArray(schema)) return schema.map((item) => rebased(item, base));
  if (typeof schema !== "object" || schema === null) return schema;
  return Object.fromEntries(
    Object.entries(schema).map(([key, value]) => [
      key,
      key === "$ref" && typeof value === "string" && value.startsWith("#")
        ? `${base}${value.slice(1)}`
        : rebased(value, base),
    ]),
  );
}

/**
 * The JSON schema of one call of `tool`. Its parameters sit under the root's `$defs` (at `key`),
 * so their own `$defs` and `$ref`s (even `#`, the parameters themselves) still resolve once the
 * call is nested in the schema of several calls.
 */
function callOf(tool: ToolDefinition, key: string): { call: Record<string, unknown>; parameters: unknown } {
  const pointer = `#/$defs/${key}`;
  return {
    call: {
      type: "object",
      properties: { name: { const: tool.name }, arguments: { $ref: pointer } },
      required: ["name", "arguments"],
      additionalProperties: false,
    },
    parameters: rebased(parametersOf(tool), pointer),
  };
}

/** The JSON schema of one call of `tool`. */
export function toolCallSchema(tool: ToolDefinition): Record<string, unknown> {
  const { call, parameters } = callOf(tool, "tool-0");
  return { ...call, $defs: { "tool-0": parameters } };
}

/**
 * The schema of what the model must write when it calls tools: one call of any of `tools`, or
 * (with `parallel`) a non-empty array of calls.
 */
export function toolCallsSchema(
  tools: readonly ToolDefinition[],
  options: { parallel: boolean },
): Record<string, unknown> {
  const $defs: Record<string, unknown> = {};
  const calls = tools.map((tool, index) => {
    const { call, parameters } = callOf(tool, `tool-${index}`);
    $defs[`tool-${index}`] = parameters;
    return call;
  });
  const one = calls.length === 1 ? (calls[0] as Record<string, unknown>) : { anyOf: calls };
  if (!options.parallel) return { $defs, ...one };
  return { $defs, anyOf: [one, { type: "array", items: one, minItems: 1 }] };
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
