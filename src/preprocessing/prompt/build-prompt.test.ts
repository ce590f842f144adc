import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { requireSharedDataset } from "../../testing/shared-datasets.js";
import { cleanQuery } from "../query.js";
import { buildPrompt } from "./build-prompt.js";
import { ALPACA_PREAMBLE, formatAlpaca, SYSTEM_PROMPT } from "./templates.js";

const query = "Draft a LinkedIn post about RAG systems.";
const context = "RAG retrieves chunks before generating.";

describe("buildPrompt", () => {
  it("chat: a system message and a user message with the query text and the context", () => {
    expect(buildPrompt({ template: "chat", query, context })).toEqual({
      messages: [
        { role: "system", content: SYSTEM_PROMPT },
        { role: "user", content: `${query}\n\nContext:\n${context}` },
      ],
    });
  });

  it("chat: without context the user message is the query alone; the system prompt can be replaced", () => {
    expect(buildPrompt({ template: "chat", query, context: "", systemPrompt: "Be brief." })).toEqual({
      messages: [
        { role: "system", content: "Be brief." },
        { role: "user", content: query },
      ],
    });
  });

  it("alpaca: exactly the fine-tuning shape, the model answers after '### Response:\\n'", () => {
    const input = buildPrompt({ template: "alpaca", query, context });
    expect(input).toEqual({
      prompt: `Below is an instruction that describes a task. Write a response that appropriately completes the request.\n\n### Instruction:\n${query}\n\nContext:\n${context}\n\n### Response:\n`,
    });
  });

  const instructPath = requireSharedDataset("llm-twin", "instruct-dataset.json");
  it.skipIf(instructPath === undefined)(
    "alpaca: a training sample formatted for fine-tuning starts with our serving prompt",
    () => {
      const dataset = JSON.parse(readFileSync(instructPath ?? "", "utf8")) as {
        train: { articles: { samples: Array<{ instruction: string; answer: string }> } };
      };
      const sample = dataset.train.articles.samples[0];
      if (sample === undefined) throw new Error("empty instruct dataset");
      const training = formatAlpaca(sample.instruction, sample.answer);
      const serving = buildPrompt({ template: "alpaca", query: sample.instruction, context: "" });
      expect("prompt" in serving && training.startsWith(serving.prompt)).toBe(true);
      expect(training.slice("prompt" in serving ? serving.prompt.length : 0)).toBe(sample.answer);
      expect(training.startsWith(ALPACA_PREAMBLE)).toBe(true);
    },
  );

  it("custom: fills {query} and {context}, inserting the query literally", () => {
    const template = { custom: "Q: {query}\nC: {context}\nA:" };
    expect(buildPrompt({ template, query: "why {context}? $& $1", context })).toEqual({
      prompt: `Q: why {context}? $& $1\nC: ${context}\nA:`,
    });
  });

  it("custom: rejects a template without both placeholders", () => {
    expect(() => buildPrompt({ template: { custom: "Q: {query}" }, query, context })).toThrow(
      /must contain \{context\}/,
    );
    expect(() => buildPrompt({ template: { custom: "nothing" }, query, context })).toThrow(/\{query\} and \{context\}/);
  });

  it("always inserts the query as text: a non-string query is an error, never '[object Object]'", () => {
    const notAString = { query } as unknown as string;
    expect(() => buildPrompt({ template: "chat", query: notAString, context })).toThrow(
      /query must be a string, got object/,
    );
    expect(() => buildPrompt({ template: "unknown" as never, query, context })).toThrow(/unknown prompt template/);
  });
});

describe("buildPrompt with history", () => {
  const history = [
    { role: "user" as const, content: "What did Maxime write about SFT?" },
    { role: "assistant" as const, content: "He recommends cleaning data first." },
  ];

  it("chat: the turns become messages between the system prompt and the request", () => {
    const input = buildPrompt({ template: "chat", query, context, history });
    expect("messages" in input && input.messages.map((message) => [message.role, message.content])).toEqual([
      ["system", SYSTEM_PROMPT],
      ["user", history[0]?.content],
      ["assistant", history[1]?.content],
      ["user", `${query}\n\nContext:\n${context}`],
    ]);
  });

  it("alpaca and custom: a conversation block before the request; no history leaves the prompt unchanged", () => {
    const alpaca = buildPrompt({ template: "alpaca", query, context, history });
    expect("prompt" in alpaca && alpaca.prompt).toContain(
      `Conversation so far:\nUser: ${history[0]?.content}\nAssistant: ${history[1]?.content}\n\nCurrent request:\n${query}`,
    );
    const custom = buildPrompt({ template: { custom: "Q: {query}\nC: {context}" }, query, context, history });
    expect("prompt" in custom && custom.prompt.startsWith("Q: Conversation so far:\nUser: ")).toBe(true);
    expect(buildPrompt({ template: "alpaca", query, context, history: [] })).toEqual(
      buildPrompt({ template: "alpaca", query, context }),
    );
  });
});

describe("cleanQuery", () => {
  it("normalises styled letters, removes emoji and link syntax, keeps code, numbers and accents", () => {
    expect(cleanQuery("  𝗛𝗼𝘄 do I tune `top_k=40` 🚀 for [Qdrant](https://qdrant.tech)\n in 2024, José?  ")).toBe(
      "How do I tune `top_k=40` for Qdrant in 2024, José?",
    );
  });
});
