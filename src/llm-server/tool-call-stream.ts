/**
 * Streaming tool calls as OpenAI does: generated text comes in token by token and leaves as
 * `delta.content` (free text) or `delta.tool_calls` (index, id, function.name, then `arguments`
 * fragments). With tool_choice "auto" the first non-blank character decides: `{` or `[` starts
 * calls, anything else is text. One call is streamed as it is written (the grammar writes
 * `{"name":"…","arguments":` first); several calls (an array) leave once complete.
 */
import { type OpenAiToolCall, parseToolCalls, type ToolPlan, toolCallId } from "./openai-tools.js";

export type ToolCallDelta = {
  index: number;
  id?: string;
  type?: "function";
  function: { name?: string; arguments: string };
};

export type ChatDelta = { content: string } | { tool_calls: ToolCallDelta[] };

export type ToolCallStream = {
  push(text: string): ChatDelta[];
  /** The rest, and whether the output was tool calls (finish_reason "tool_calls"). */
  finish(): { deltas: ChatDelta[]; calledTools: boolean };
};

const HEADER = /^\{"name":"((?:[^"\\]|\\.)*)","arguments":/;

export function createToolCallStream(plan: ToolPlan): ToolCallStream {
  let mode: "undecided" | "text" | "calls" = plan.mode === "required" ? "calls" : "undecided";
  let buffer = "";
  let header: { id: string; length: number } | undefined;
  let sentArguments = 0;

  /**
   * "streaming": a final `}` is held back (it may be the call's own closing brace); "complete":
   * the call's JSON is whole, its closing brace is not an argument; "cut": everything goes.
   */
  function argumentsFragment(state: "streaming" | "complete" | "cut"): ChatDelta[] {
    if (header === undefined) return [];
    const json = buffer.trimEnd();
    const end = state === "complete" || (state === "streaming" && json.endsWith("}")) ? json.length - 1 : json.length;
    const fragment = json.slice(header.length + sentArguments, Math.max(header.length + sentArguments, end));
    if (fragment === "") return [];
    sentArguments += fragment.length;
    return [{ tool_calls: [{ index: 0, function: { arguments: fragment } }] }];
  }

  function pushCalls(): ChatDelta[] {
    const trimmed = buffer.trimStart();
    if (header === undefined) {
      const match = HEADER.exec(trimmed);
      if (match === null) return [];
      buffer = trimmed;
      header = { id: toolCallId(), length: match[0].length };
      const name = JSON.parse(`"${match[1] ?? ""}"`) as string;
      return [
        { tool_calls: [{ index: 0, id: header.id, type: "function", function: { name, arguments: "" } }] },
        ...argumentsFragment("streaming"),
      ];
    }
    return argumentsFragment("streaming");
  }

  return {
    push(text) {
      if (mode === "text") return text === "" ? [] : [{ content: text }];
      buffer += text;
      if (mode === "undecided") {
        const first = buffer.trimStart()[0];
        if (first === undefined) return [];
        if (first !== "{" && first !== "[") {
          mode = "text";
          const content = buffer;
          buffer = "";
          return [{ content }];
        }
        mode = "calls";
      }
      return pushCalls();
    },
    finish() {
      if (mode === "text") return { deltas: [], calledTools: false };
      if (mode === "undecided") return { deltas: buffer === "" ? [] : [{ content: buffer }], calledTools: false };
      const calls: OpenAiToolCall[] | undefined = parseToolCalls(buffer, plan);
      if (header !== undefined) {
        return {
          deltas: argumentsFragment(calls === undefined ? "cut" : "complete"),
          calledTools: calls !== undefined,
        };
      }
      if (calls === undefined) return { deltas: buffer === "" ? [] : [{ content: buffer }], calledTools: false };
      return {
        deltas: calls.map((call, index) => ({
          tool_calls: [{ index, id: call.id, type: "function", function: { ...call.function } }],
        })),
        calledTools: true,
      };
    },
  };
}
