/**
 * Tools rendered through the model's own chat template: a generated tiny model whose Jinja
 * template uses `tools` (node-llama-cpp finds its tool-call syntax) gets the tools from the
 * template, not from the fallback system message; a required call still comes back in OpenAI's shape.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateGguf, TINY_MODEL_PRESETS } from "../../src/gguf/index.js";
import { startTestService, type TestService } from "./helpers.js";

/** Our own minimal tools-aware ChatML template (Hermes-style tool-call tags). */
const TOOLS_TEMPLATE = `{%- if tools %}<|im_start|>system
{% if messages[0]['role'] == 'system' %}{{ messages[0]['content'] }}
{% endif %}Tools:
{% for tool in tools %}{{ tool | tojson }}
{% endfor %}Call one as <tool_call>{"name": ..., "arguments": ...}</tool_call><|im_end|>
{% elif messages[0]['role'] == 'system' %}<|im_start|>system
{{ messages[0]['content'] }}<|im_end|>
{% endif %}{% for message in messages %}{% if message.role == 'system' %}{% elif message.role == 'assistant' and message.tool_calls %}<|im_start|>assistant
{% for call in message.tool_calls %}<tool_call>
{"name": "{{ call.function.name }}", "arguments": {{ call.function.arguments | tojson }}}
</tool_call>{% endfor %}<|im_end|>
{% elif message.role == 'tool' %}<|im_start|>user
<tool_response>
{{ message.content }}
</tool_response><|im_end|>
{% else %}<|im_start|>{{ message.role }}
{{ message.content }}<|im_end|>
{% endif %}{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant
{% endif %}`;

const tools = [
  {
    type: "function",
    function: {
      name: "get_weather",
      description: "Weather forecast",
      parameters: {
        type: "object",
        properties: { days: { type: "integer", minimum: 1, maximum: 7 } },
        required: ["days"],
      },
    },
  },
];

let directory: string;
let service: TestService;
beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), "llm-twin-tools-template-"));
  const model = await generateGguf(join(directory, "tools-chat.gguf"), {
    ...TINY_MODEL_PRESETS.chat,
    chatTemplate: TOOLS_TEMPLATE,
  });
  service = await startTestService({ modelPath: model.path, modelId: "tools-chat" });
}, 120_000);
afterAll(async () => {
  await service?.close();
  await rm(directory, { recursive: true, force: true });
});

describe("tools through the chat template", () => {
  it("the template renders the tools; the fallback system text is not added", async () => {
    const engine = service.holder.require();
    expect(engine.info.chatTemplateTools).toBe(true);
    const info = await service.app.inject({ method: "GET", url: "/info" });
    expect((info.json() as { chat_template_tools: boolean }).chat_template_tools).toBe(true);
    let promptTokenIds: readonly number[] = [];
    for await (const event of engine.run({
      input: {
        messages: [{ role: "user", content: "Weather?" }],
        tools: [{ name: "get_weather", description: "Weather forecast", parameters: { type: "object" } }],
      },
      parameters: { maxNewTokens: 1 },
    })) {
      if (event.type === "start") promptTokenIds = event.promptTokenIds;
    }
    const prompt = engine.detokenize(promptTokenIds, true);
    expect(prompt).toContain("Tools:");
    expect(prompt).toContain("get_weather");
    expect(prompt).not.toContain("You can call these tools");
  });

  it("a named call comes back as tool_calls", async () => {
    const response = await service.app.inject({
      method: "POST",
      url: "/v1/chat/completions",
      payload: {
        messages: [{ role: "user", content: "Weather?" }],
        tools,
        tool_choice: { type: "function", function: { name: "get_weather" } },
        parallel_tool_calls: false,
        max_tokens: 64,
        temperature: 1,
        seed: 3,
      },
    });
    expect(response.statusCode).toBe(200);
    const choice = (response.json() as { choices: Array<{ finish_reason: string; message: Record<string, unknown> }> })
      .choices[0];
    expect(choice?.finish_reason).toBe("tool_calls");
    const calls = choice?.message.tool_calls as Array<{ function: { name: string; arguments: string } }>;
    expect(calls[0]?.function.name).toBe("get_weather");
    const days = (JSON.parse(calls[0]?.function.arguments ?? "{}") as { days: number }).days;
    expect(Number.isInteger(days) && days >= 1 && days <= 7).toBe(true);
  });

  it("the generated ChatML model has no tools in its template: the fallback is used", async () => {
    const other = await startTestService();
    try {
      expect(other.holder.require().info.chatTemplateTools).toBe(false);
    } finally {
      await other.close();
    }
  });
});
