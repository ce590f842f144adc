/**
 * The generation step of a trace in the OpenTelemetry GenAI semantic conventions, for OTLP export,
 * so Langfuse, Phoenix or Opik read our traces without glue: the span is named `chat <model>` and
 * carries `gen_ai.*` request, response and usage attributes; the prompt and the completion go both
 * as the current `gen_ai.input.messages` / `gen_ai.output.messages` attributes and as the older
 * `gen_ai.content.prompt` / `gen_ai.content.completion` span events many tools still read. Content
 * is only there when the trace kept it (--trace-prompts): a trace without prompts exports none.
 */
import type { Attributes, SpanRecord, TraceRecord } from "./types.js";

export const GEN_AI_SYSTEM = "llm-twin";

export type GenAiEvent = { name: string; attributes: Attributes };
export type GenAiView = { name: string; attributes: Attributes; events: GenAiEvent[] };

type Message = { role: string; content: string };

function promptMessages(record: TraceRecord): Message[] | undefined {
  const prompt = record.spans.find((span) => span.name === "prompt")?.attributes;
  if (prompt === undefined) return undefined;
  if (Array.isArray(prompt.promptMessages)) return prompt.promptMessages as Message[];
  if (typeof prompt.promptText === "string") return [{ role: "user", content: prompt.promptText }];
  return undefined;
}

const defined = (attributes: Attributes): Attributes =>
  Object.fromEntries(Object.entries(attributes).filter(([, value]) => value !== undefined && value !== null));

/** The GenAI view of a span, or undefined when the span is not a model call. */
export function genAiView(record: TraceRecord, span: SpanRecord): GenAiView | undefined {
  if (span.name !== "generation") return undefined;
  const attributes = span.attributes;
  const model = typeof attributes.model === "string" ? attributes.model : "unknown";
  const finishReason = typeof attributes.finishReason === "string" ? attributes.finishReason : undefined;
  const messages = promptMessages(record);
  const answer = typeof record.attributes.answer === "string" ? record.attributes.answer : undefined;
  const events: GenAiEvent[] = [];
  const content: Attributes = {};
  if (messages !== undefined) {
    content["gen_ai.input.messages"] = JSON.stringify(
      messages.map((message) => ({ role: message.role, parts: [{ type: "text", content: message.content }] })),
    );
    events.push({ name: "gen_ai.content.prompt", attributes: { "gen_ai.prompt": JSON.stringify(messages) } });
  }
  if (answer !== undefined) {
    content["gen_ai.output.messages"] = JSON.stringify([
      {
        role: "assistant",
        parts: [{ type: "text", content: answer }],
        ...(finishReason === undefined ? {} : { finish_reason: finishReason }),
      },
    ]);
    events.push({
      name: "gen_ai.content.completion",
      attributes: { "gen_ai.completion": JSON.stringify([{ role: "assistant", content: answer }]) },
    });
  }
  return {
    name: `chat ${model}`,
    attributes: defined({
      ...attributes,
      "gen_ai.operation.name": "chat",
      "gen_ai.system": GEN_AI_SYSTEM,
      "gen_ai.provider.name": GEN_AI_SYSTEM,
      "gen_ai.request.model": model,
      "gen_ai.response.model": model,
      "gen_ai.request.max_tokens": attributes.maxNewTokens,
      "gen_ai.request.temperature": attributes.temperature,
      "gen_ai.request.top_p": attributes.topP,
      "gen_ai.usage.input_tokens": attributes.promptTokens,
      "gen_ai.usage.output_tokens": attributes.completionTokens,
      "gen_ai.response.finish_reasons": finishReason === undefined ? undefined : [finishReason],
      ...content,
    }),
    events,
  };
}
