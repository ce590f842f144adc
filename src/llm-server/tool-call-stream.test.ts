import { describe, expect, it } from "vitest";
import { parseToolCalls, planTools, renderToolMessages, toolPromptInput } from "./openai-tools.js";
import { type ChatDelta, createToolCallStream } from "./tool-call-stream.js";

const fn = (name: string) => ({ type: "function" as const, function: { name } });
const required = planTools({ tools: [fn("f"), fn("g")], tool_choice: "required" });
const auto = planTools({ tools: [fn("f")] });

function run(plan: NonNullable<typeof auto>, pieces: string[]): { deltas: ChatDelta[]; calledTools: boolean } {
  const stream = createToolCallStream(plan);
  const deltas = pieces.flatMap((piece) => stream.push(piece));
  const end = stream.finish();
  return { deltas: [...deltas, ...end.deltas], calledTools: end.calledTools };
}

describe("tool call streaming", () => {
  it("streams one call as header then argument fragments, without the closing brace", () => {
    if (required === undefined) throw new Error("plan");
    const text = '{"name":"g","arguments":{"a":{"b":1},"c":"}"}}';
    const pieces = text.match(/.{1,3}/g) ?? [];
    const { deltas, calledTools } = run(required, pieces);
    expect(calledTools).toBe(true);
    const calls = deltas.flatMap((delta) => ("tool_calls" in delta ? delta.tool_calls : []));
    expect(calls[0]).toMatchObject({ index: 0, type: "function", function: { name: "g", arguments: "" } });
    expect(calls.map((call) => call.function.arguments).join("")).toBe('{"a":{"b":1},"c":"}"}');
  });

  it("sends several calls (an array) once complete, each with its index", () => {
    if (required === undefined) throw new Error("plan");
    const { deltas, calledTools } = run(required, [
      '[{"name":"f","arguments":{}},',
      '{"name":"g","arguments":{"x":2}}]',
    ]);
    expect(calledTools).toBe(true);
    const calls = deltas.flatMap((delta) => ("tool_calls" in delta ? delta.tool_calls : []));
    expect(calls.map((call) => [call.index, call.function.name, call.function.arguments])).toEqual([
      [0, "f", "{}"],
      [1, "g", '{"x":2}'],
    ]);
  });

  it('"auto": text that does not begin with { or [ streams as content', () => {
    if (auto === undefined) throw new Error("plan");
    const { deltas, calledTools } = run(auto, ["  ", "Hello", " {x}"]);
    expect(calledTools).toBe(false);
    expect(deltas).toEqual([{ content: "  Hello" }, { content: " {x}" }]);
  });

  it("a call cut by max_tokens is not reported as a tool call", () => {
    if (required === undefined) throw new Error("plan");
    const { calledTools } = run(required, ['{"name":"f","argu']);
    expect(calledTools).toBe(false);
    expect(parseToolCalls('{"name":"h","arguments":{}}', required)).toBeUndefined();
  });
});

describe("tool prompt and history", () => {
  it("puts the tools in the system message and renders calls and results", () => {
    const history = renderToolMessages([
      { role: "system", text: "Be brief." },
      {
        role: "assistant",
        text: "",
        tool_calls: [{ id: "c1", type: "function", function: { name: "f", arguments: '{"a":1}' } }],
      },
      { role: "tool", text: "42", tool_call_id: "c1" },
    ]);
    const { messages, tools } = toolPromptInput(history, auto, false);
    expect(tools).toBeUndefined();
    expect(messages[0]?.role).toBe("system");
    expect(messages[0]?.content).toMatch(/^Be brief\.\n\nYou can call these tools/);
    expect(messages[1]).toEqual({ role: "assistant", content: '{"name":"f","arguments":{"a":1}}' });
    expect(messages[2]).toEqual({ role: "user", content: '<tool_response id="c1">\n42\n</tool_response>' });

    // A chat template that renders tools gets them as they are, with no system text added.
    expect(toolPromptInput(history, auto, true)).toEqual({ messages: history, tools: auto?.tools });
  });
});
