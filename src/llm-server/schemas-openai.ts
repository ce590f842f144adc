/**
 * OpenAI request bodies for /v1/completions and /v1/chat/completions. Fields OpenAI clients send
 * routinely are accepted (`frequency_penalty`/`presence_penalty` −2…2 over the generated tokens); values we cannot honour are 422, and
 * unknown fields are 422 too, naming the field. `n` (bounded by --max-n and the parallel
 * sequences, checked by the route), `logprobs` (chat: boolean + `top_logprobs` 0–20;
 * completions: the legacy integer 0–20) and chat `tools` + `tool_choice` (openai-tools.ts) are served. Extensions as in vLLM/llama-server: `top_k`,
 * `repetition_penalty`, `ignore_eos`, `cache_prompt` (llama-server's: false skips the prompt cache); `logit_bias` also as llama-server's `[[id, bias]]` list.
 */
import { z } from "zod";
import { type EngineRequest, MAX_TOP_LOGPROBS } from "../llm/llama-cpp/index.js";
import type { ChatMessage } from "../llm/port.js";
import {
  historyToolCallSchema,
  planTools,
  renderToolMessages,
  type ToolPlan,
  toolGenerationParameters,
  toolRequestFields,
} from "./openai-tools.js";
import {
  refuseUnservedChatFields,
  refuseUnservedCompletionFields,
  unservedChatFields,
  unservedCompletionFields,
} from "./openai-unserved-fields.js";
import {
  assertSchemaDepth,
  logitBiasSchema,
  normalizeLogitBias,
  normalizeStop,
  parseBody,
  stopSchema,
  unsupported,
} from "./request-parsing.js";

const commonFields = {
  model: z.string().nullish(),
  max_tokens: z.int().positive().nullish(),
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().gt(0).lte(1).nullish(),
  top_k: z.int().positive().nullish(),
  n: z.int().positive().nullish(),
  stream: z.boolean().nullish(),
  stream_options: z.strictObject({ include_usage: z.boolean().nullish() }).nullish(),
  stop: stopSchema.nullish(),
  seed: z.int().nullish(),
  logit_bias: logitBiasSchema.nullish(),
  presence_penalty: z.number().min(-2).max(2).nullish(),
  frequency_penalty: z.number().min(-2).max(2).nullish(),
  repetition_penalty: z.number().gt(0).nullish(),
  logprobs: z.union([z.boolean(), z.int()]).nullish(),
  user: z.string().nullish(),
  ignore_eos: z.boolean().nullish(),
  cache_prompt: z.boolean().nullish(),
};

/**
 * Other fields of a message are ignored, as OpenAI does: an assistant message sent back as it was
 * received carries `refusal`, `annotations`, `audio`, and the client's helpers (runTools, parse)
 * add `parsed` and `parsed_arguments`.
 */
const messageSchema = z.looseObject({
  role: z.enum(["system", "developer", "user", "assistant", "tool"]),
  // null: an assistant message that only calls tools.
  // Parts of any type parse, so that an image or audio part is refused by name (textOfParts).
  content: z.union([z.string(), z.array(z.looseObject({ type: z.string(), text: z.string().nullish() }))]).nullable(),
  name: z.string().nullish(),
  tool_calls: z.array(historyToolCallSchema).nullish(),
  tool_call_id: z.string().nullish(),
});

const responseFormatSchema = z.union([
  z.strictObject({ type: z.literal("text") }),
  z.strictObject({ type: z.literal("json_object") }),
  z.strictObject({
    type: z.literal("json_schema"),
    json_schema: z.looseObject({ name: z.string().nullish(), schema: z.record(z.string(), z.unknown()) }),
  }),
]);

export const completionRequestSchema = z.strictObject({
  ...commonFields,
  prompt: z.union([
    z.string().min(1, "cannot be empty"),
    z.array(z.string().min(1)).length(1, "a list holds one prompt here (batches and token ids are not supported)"),
  ]),
  echo: z.boolean().nullish(),
  ...unservedCompletionFields,
});

export const chatRequestSchema = z.strictObject({
  ...commonFields,
  messages: z.array(messageSchema).min(1, "cannot be empty (send at least one message)"),
  max_completion_tokens: z.int().positive().nullish(),
  top_logprobs: z.int().min(0).max(MAX_TOP_LOGPROBS).nullish(),
  response_format: responseFormatSchema.nullish(),
  ...toolRequestFields,
  ...unservedChatFields,
});

export type ParsedOpenAiRequest = {
  engineRequest: Omit<EngineRequest, "signal">;
  stream: boolean;
  includeUsage: boolean;
  model: string | undefined;
  echoPrompt: string | undefined;
  /** Choices to generate (OpenAI `n`). */
  n: number;
  /** Log-probabilities asked for: the number of top alternatives per token (0 = the token's own only). */
  logprobs: number | undefined;
  /** Chat with `tools` (openai-tools.ts); undefined without. */
  tools?: ToolPlan;
};

type Common = { [K in keyof typeof commonFields]?: z.output<(typeof commonFields)[K]> };

function commonParameters(body: Common): EngineRequest["parameters"] {
  const parameters: EngineRequest["parameters"] = { temperature: body.temperature ?? 1 };
  if (body.frequency_penalty) parameters.frequencyPenalty = body.frequency_penalty;
  if (body.presence_penalty) parameters.presencePenalty = body.presence_penalty;
  if (body.max_tokens != null) parameters.maxNewTokens = body.max_tokens;
  if (body.top_p != null) parameters.topP = body.top_p;
  if (body.top_k != null) parameters.topK = body.top_k;
  if (body.repetition_penalty != null) parameters.repetitionPenalty = body.repetition_penalty;
  const stop = normalizeStop(body.stop);
  if (stop !== undefined) parameters.stop = stop;
  if (body.seed != null) parameters.seed = Math.abs(body.seed);
  const logitBias = normalizeLogitBias(body.logit_bias);
  if (logitBias !== undefined) parameters.logitBias = logitBias;
  if (body.ignore_eos === true) parameters.ignoreEos = true;
  if (body.cache_prompt === false) parameters.cachePrompt = false;
  return parameters;
}

export function parseCompletionRequest(raw: unknown): ParsedOpenAiRequest {
  const body = parseBody(completionRequestSchema, raw);
  refuseUnservedCompletionFields(body);
  const prompt = typeof body.prompt === "string" ? body.prompt : (body.prompt[0] ?? "");
  // The legacy integer: how many alternatives per token (true: none besides the token itself).
  let logprobs: number | undefined;
  if (typeof body.logprobs === "number") {
    if (body.logprobs < 0 || body.logprobs > MAX_TOP_LOGPROBS) {
      throw unsupported("logprobs", `must be an integer in [0, ${MAX_TOP_LOGPROBS}]. Given: ${body.logprobs}`);
    }
    logprobs = body.logprobs;
  } else if (body.logprobs === true) logprobs = 0;
  const parameters = withLogprobs(commonParameters(body), logprobs);
  return {
    n: body.n ?? 1,
    logprobs,
    engineRequest: { input: { prompt }, parameters },
    stream: body.stream === true,
    includeUsage: body.stream_options?.include_usage === true,
    model: body.model ?? undefined,
    echoPrompt: body.echo === true ? prompt : undefined,
  };
}

export function parseChatRequest(raw: unknown): ParsedOpenAiRequest {
  const body = parseBody(chatRequestSchema, raw);
  refuseUnservedChatFields(body);
  if (body.tools != null) assertSchemaDepth(body.tools, "tools");
  const plan = planTools(body);
  const messages: ChatMessage[] = renderToolMessages(
    body.messages.map((message, index) => {
      if (message.role === "tool" && message.tool_call_id == null) {
        throw unsupported(`messages.${index}.tool_call_id`, "is required in a message with role `tool`");
      }
      if (message.content === null && (message.role !== "assistant" || (message.tool_calls ?? []).length === 0)) {
        throw unsupported(
          `messages.${index}.content`,
          "is required (null only in an assistant message with `tool_calls`)",
        );
      }
      return {
        role: message.role,
        text:
          message.content === null
            ? ""
            : typeof message.content === "string"
              ? message.content
              : textOfParts(message.content, index),
        tool_calls: message.tool_calls ?? null,
        tool_call_id: message.tool_call_id ?? null,
      };
    }),
  );
  if (typeof body.logprobs === "number") throw unsupported("logprobs", "must be a boolean here; use top_logprobs");
  if (body.top_logprobs != null && body.logprobs !== true) {
    throw unsupported("top_logprobs", "requires `logprobs: true`");
  }
  const logprobs = body.logprobs === true ? (body.top_logprobs ?? 0) : undefined;
  const parameters = withLogprobs(commonParameters(body), logprobs);
  if (body.max_completion_tokens != null) parameters.maxNewTokens = body.max_completion_tokens;
  const format = body.response_format;
  if (format?.type === "json_object") parameters.jsonSchema = { type: "object" };
  if (format?.type === "json_schema") {
    assertSchemaDepth(format.json_schema.schema, "response_format.json_schema.schema");
    parameters.jsonSchema = format.json_schema.schema;
  }

  if (plan !== undefined && plan.mode !== "none") {
    if (format !== undefined && format !== null && format.type !== "text") {
      throw unsupported("response_format", "cannot be combined with `tools` (tool calls are JSON already)");
    }
    Object.assign(parameters, toolGenerationParameters(plan));
  }
  return {
    n: body.n ?? 1,
    logprobs,
    engineRequest: { input: { messages }, parameters },
    stream: body.stream === true,
    includeUsage: body.stream_options?.include_usage === true,
    model: body.model ?? undefined,
    echoPrompt: undefined,
    ...(plan === undefined || plan.mode === "none" ? {} : { tools: plan }),
  };
}

function withLogprobs(parameters: EngineRequest["parameters"], top: number | undefined): EngineRequest["parameters"] {
  if (top === undefined) return parameters;
  return { ...parameters, logprobs: true, tokenPieces: true, ...(top > 0 ? { topLogprobs: top } : {}) };
}

/** The text of a message's content parts; parts other than text are 422, naming the part. */
function textOfParts(
  parts: ReadonlyArray<{ type: string; text?: string | null | undefined }>,
  message: number,
): string {
  return parts
    .map((part, index) => {
      const field = `messages.${message}.content.${index}`;
      if (part.type !== "text") {
        throw unsupported(
          `${field}.type`,
          `'${part.type}' is not supported: expected "text" (this model reads text only)`,
        );
      }
      if (typeof part.text !== "string") throw unsupported(`${field}.text`, 'is required in a "text" part');
      return part.text;
    })
    .join("");
}
