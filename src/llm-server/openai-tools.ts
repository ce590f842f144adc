/**
 * OpenAI `tools` + `tool_choice` on /v1/chat/completions: request schemas, the prompt, the
 * grammar, and reading the calls back out of the generated text.
 *
 * Prompt: through the model's chat template when it renders `tools` (src/llm/llama-cpp/prompt.ts),
 * else the documented fallback: the tools, as JSON with their parameter schemas, and how to call
 * them go into a system message (appended to the first system message, else a new first one). History: an assistant message's `tool_calls` is rendered as the
 * JSON the model would have written; a `tool` message becomes a user turn
 * `<tool_response id="...">content</tool_response>`.
 * Output: "required" or a named function → a grammar admitting only calls (json-schema-gbnf.ts);
 * "auto" → free text or calls; "none" → no tools in the prompt, no grammar.
 */
import { randomBytes } from "node:crypto";
import { z } from "zod";
import { autoToolGrammar, type ToolDefinition, toolCallsSchema } from "../llm/grammar/tool-call-grammar.js";
import type { ChatMessage, GenerationParameters } from "../llm/port.js";
import { unsupported } from "./request-parsing.js";

export const toolSchema = z.strictObject({
  type: z.literal("function"),
  function: z.strictObject({
    name: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, "must be 1 to 64 letters, digits, _ or -"),
    description: z.string().nullish(),
    parameters: z.record(z.string(), z.unknown()).nullish(),
    strict: z.boolean().nullish(),
  }),
});

export const toolChoiceSchema = z.union([
  z.enum(["none", "auto", "required"]),
  z.strictObject({ type: z.literal("function"), function: z.strictObject({ name: z.string() }) }),
]);

/** A call in an assistant message of the history (other fields, such as the client's `parsed_arguments`, ignored). */
export const historyToolCallSchema = z.looseObject({
  id: z.string(),
  type: z.literal("function"),
  function: z.looseObject({ name: z.string(), arguments: z.string() }),
});

/** The chat fields this module adds to the request body. */
export const toolRequestFields = {
  tools: z.array(toolSchema).max(128).nullish(),
  tool_choice: toolChoiceSchema.nullish(),
  parallel_tool_calls: z.boolean().nullish(),
};

export type ToolMode = "none" | "auto" | "required";

export type ToolPlan = { mode: ToolMode; tools: ToolDefinition[]; parallel: boolean };

type ToolFields = {
  tools?: z.output<typeof toolRequestFields.tools> | undefined;
  tool_choice?: z.output<typeof toolRequestFields.tool_choice> | undefined;
  parallel_tool_calls?: boolean | null | undefined;
};

/** What the request asks of tools; undefined without `tools`. 422 for a choice that cannot be met. */
export function planTools(body: ToolFields): ToolPlan | undefined {
  const declared = body.tools ?? [];
  const choice = body.tool_choice ?? undefined;
  if (declared.length === 0) {
    if (choice !== undefined && choice !== "none" && choice !== "auto") {
      throw unsupported("tool_choice", "needs `tools`");
    }
    return undefined;
  }
  for (const [index, { function: fn }] of declared.entries()) {
    const type = fn.parameters?.type;
    if (type !== undefined && type !== "object") {
      throw unsupported(
        `tools.${index}.function.parameters`,
        `of '${fn.name}' must be a JSON schema of \`type: "object"\` (a call's arguments are an object). Given: type ${JSON.stringify(type)}`,
      );
    }
  }
  const tools: ToolDefinition[] = declared.map(({ function: fn }) => ({
    name: fn.name,
    ...(fn.description == null ? {} : { description: fn.description }),
    ...(fn.parameters == null ? {} : { parameters: fn.parameters }),
  }));
  const names = new Set<string>();
  for (const tool of tools) {
    if (names.has(tool.name)) throw unsupported("tools", `name the function '${tool.name}' once`);
    names.add(tool.name);
  }
  const parallel = body.parallel_tool_calls !== false;
  if (choice === undefined || typeof choice === "string") return { mode: choice ?? "auto", tools, parallel };
  const named = tools.find((tool) => tool.name === choice.function.name);
  if (named === undefined) {
    throw unsupported("tool_choice.function.name", `'${choice.function.name}' is not one of \`tools\``);
  }
  return { mode: "required", tools: [named], parallel };
}

/** The grammar-related parameters of a plan (none for "none"). */
export function toolGenerationParameters(plan: ToolPlan): Pick<GenerationParameters, "jsonSchema" | "grammar"> {
  if (plan.mode === "required") return { jsonSchema: toolCallsSchema(plan.tools, { parallel: plan.parallel }) };
  if (plan.mode === "auto") return { grammar: autoToolGrammar(plan.tools, { parallel: plan.parallel }) };
  return {};
}

/** The system text that tells the model about the tools (the documented fallback prompt). */
export function toolSystemText(plan: ToolPlan): string {
  const list = JSON.stringify(
    plan.tools.map((tool) => ({
      name: tool.name,
      ...(tool.description === undefined ? {} : { description: tool.description }),
      parameters: tool.parameters ?? { type: "object" },
    })),
  );
  const how =
    'To call a tool, answer with only a JSON object {"name": <tool name>, "arguments": <arguments object>}' +
    (plan.parallel ? ", or a JSON array of such objects to call several." : ".");
  const when = plan.mode === "required" ? " You must call a tool now." : " Otherwise answer normally.";
  return `You can call these tools; their parameters are JSON schemas:\n${list}\n${how}${when}`;
}

type HistoryMessage = {
  role: "system" | "developer" | "user" | "assistant" | "tool";
  text: string;
  tool_calls?: Array<z.output<typeof historyToolCallSchema>> | null;
  tool_call_id?: string | null;
};

/** Chat history with tool calls and results → plain messages (see the header). */
export function renderToolMessages(messages: readonly HistoryMessage[]): ChatMessage[] {
  return messages.map((message) => {
    if (message.role === "tool") {
      const id = message.tool_call_id == null ? "" : ` id="${message.tool_call_id}"`;
      return { role: "user", content: `<tool_response${id}>\n${message.text}\n</tool_response>` };
    }
    if (message.role === "assistant" && message.tool_calls != null && message.tool_calls.length > 0) {
      const calls = message.tool_calls.map(
        (call) =>
          `{"name":${JSON.stringify(call.function.name)},"arguments":${argumentsJson(call.function.arguments)}}`,
      );
      const json = calls.length === 1 ? (calls[0] ?? "") : `[${calls.join(",")}]`;
      return { role: "assistant", content: message.text === "" ? json : `${message.text}\n${json}` };
    }
    return { role: message.role === "developer" ? "system" : message.role, content: message.text };
  });
}

/**
 * The chat input for a plan: the tools go to a chat template that renders them (`tools`), else
 * the fallback system text is merged into the first system message (or becomes one).
 */
export function toolPromptInput(
  messages: readonly ChatMessage[],
  plan: ToolPlan | undefined,
  templateSupportsTools: boolean,
): { messages: readonly ChatMessage[]; tools?: readonly ToolDefinition[] } {
  if (plan === undefined || plan.mode === "none") return { messages };
  if (templateSupportsTools) return { messages, tools: plan.tools };
  const text = toolSystemText(plan);
  const first = messages[0];
  if (first?.role === "system") {
    return { messages: [{ role: "system", content: `${first.content}\n\n${text}` }, ...messages.slice(1)] };
  }
  return { messages: [{ role: "system", content: text }, ...messages] };
}

/** History arguments are a JSON string; kept as JSON when they parse, else as a JSON string. */
function argumentsJson(text: string): string {
  try {
    return JSON.stringify(JSON.parse(text));
  } catch {
    return JSON.stringify(text);
  }
}

export type OpenAiToolCall = { id: string; type: "function"; function: { name: string; arguments: string } };

export function toolCallId(): string {
  return `call_${randomBytes(12).toString("hex")}`;
}

/**
 * The calls in a generated text, or undefined when it is not calls of the declared tools (free
 * text, or a document cut short by max_tokens).
 */
export function parseToolCalls(text: string, plan: ToolPlan): OpenAiToolCall[] | undefined {
  const trimmed = text.trim();
  if (!trimmed.startsWith("{") && !trimmed.startsWith("[")) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(trimmed);
  } catch {
    return undefined;
  }
  const items = Array.isArray(parsed) ? parsed : [parsed];
  const names = new Set(plan.tools.map((tool) => tool.name));
  const calls: OpenAiToolCall[] = [];
  for (const item of items) {
    if (typeof item !== "object" || item === null) return undefined;
    const { name, arguments: args } = item as { name?: unknown; arguments?: unknown };
    if (typeof name !== "string" || !names.has(name) || typeof args !== "object" || args === null) return undefined;
    calls.push({ id: toolCallId(), type: "function", function: { name, arguments: JSON.stringify(args) } });
  }
  return calls.length === 0 ? undefined : calls;
}
