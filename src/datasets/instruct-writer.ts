/**
 * The instruction writer: an LLM reached over any OpenAI-compatible chat API is asked, for one
 * chunk, for the instructions that chunk would answer. The reply is constrained with a JSON schema
 * (`response_format: json_schema`), parsed and checked; transport failures are retried.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { AppError } from "../errors/index.js";
import { chatCompletionsUrl, postJson } from "../llm/openai-chat.js";
import { createUnreachableGuard } from "../llm/unreachable.js";

export const INSTRUCT_PROMPT_VERSION = "instruct-v1";

export type InstructionWriterOptions = {
  /** Base URL of the OpenAI-compatible server (…/v1/chat/completions is appended). */
  url: string;
  model: string;
  apiKey?: string;
  timeoutMs: number;
  retries: number;
  /** `max_tokens` of one request; default `DEFAULT_TOKENS_PER_INSTRUCTION` × the instructions asked. */
  maxTokens?: number;
  /** Bounds of one instruction in the JSON schema sent (the length filter's, so none is wasted). */
  instructionChars?: { min: number; max: number };
};

/** The default token budget per instruction asked (a 300-character instruction, JSON quoting). */
export const DEFAULT_TOKENS_PER_INSTRUCTION = 160;

const WRITER_TEMPERATURE = 0.7;

export type InstructionWriter = {
  model: string;
  /** What shapes its requests besides the prompt (recorded in the dataset's generator parameters). */
  settings: { maxTokensPerInstruction: number | null; maxTokens: number | null; temperature: number };
  write(chunk: { title: string; text: string }, count: number, signal?: AbortSignal): Promise<string[]>;
};

export function instructionSchema(count: number, chars: { min: number; max: number } = { min: 10, max: 300 }) {
  return {
    name: "instructions",
    schema: {
      type: "object",
      properties: {
        instructions: {
          type: "array",
          items: { type: "string", minLength: chars.min, maxLength: chars.max },
          minItems: count,
          maxItems: count,
        },
      },
      required: ["instructions"],
      additionalProperties: false,
    },
  };
}

export function instructionMessages(chunk: { title: string; text: string }, count: number) {
  return [
    {
      role: "system",
      content:
        "You write training data. Given an extract of a text, write instructions a user could give an assistant " +
        "for which the extract is the answer (write a post, explain a point, describe...). Each instruction is " +
        "self-contained, names the topic, and does not mention 'the extract' or 'the text'. Answer with JSON only.",
    },
    {
      role: "user",
      content: `Write ${count} distinct instruction(s) that this extract answers.\nTitle: ${chunk.title}\nExtract:\n${chunk.text}`,
    },
  ];
}

export function createInstructionWriter(options: InstructionWriterOptions): InstructionWriter {
  const endpoint = chatCompletionsUrl(options.url);
  // Until one call has succeeded, a server that cannot be reached stops the run (src/llm/unreachable.ts).
  const guard = createUnreachableGuard({
    service: "the writer LLM",
    url: endpoint,
    urlSetting: "--llm-url (LLM_TWIN_LLM_URL)",
    keySetting: "--api-key (LLM_TWIN_LLM_API_KEY)",
  });

  async function once(chunk: { title: string; text: string }, count: number, signal?: AbortSignal): Promise<string[]> {
    const sent = await postJson(endpoint, {
      apiKey: options.apiKey,
      body: {
        model: options.model,
        messages: instructionMessages(chunk, count),
        temperature: WRITER_TEMPERATURE,
        max_tokens: options.maxTokens ?? DEFAULT_TOKENS_PER_INSTRUCTION * count,
        response_format: {
          type: "json_schema",
          json_schema: { ...instructionSchema(count, options.instructionChars), strict: true },
        },
      },
      timeoutMs: options.timeoutMs,
      signal,
    });
    if (!sent.ok) {
      if (sent.aborted) throw new AppError("aborted", "the run was stopped");
      guard.failed(sent);
      throw new AppError(
        sent.timedOut ? "timeout" : "upstream_unavailable",
        sent.timedOut
          ? `the writer LLM did not answer within ${options.timeoutMs} ms (raise --timeout)`
          : `cannot reach the writer LLM at ${endpoint}: ${(sent.error as Error).message} (check --llm-url)`,
        { cause: sent.error, retryable: true },
      );
    }
    const { response } = sent;
    const text = await response.text();
    guard.answered(response);
    if (!response.ok) {
      throw new AppError("upstream_error", `the writer LLM answered HTTP ${response.status}: ${text.slice(0, 200)}`, {
        retryable: response.status === 429 || response.status >= 500,
      });
    }
    return parseInstructions(text);
  }

  return {
    model: options.model,
    settings: {
      maxTokensPerInstruction: options.maxTokens === undefined ? DEFAULT_TOKENS_PER_INSTRUCTION : null,
      maxTokens: options.maxTokens ?? null,
      temperature: WRITER_TEMPERATURE,
    },
    async write(chunk, count, signal) {
      for (let attempt = 0; ; attempt++) {
        try {
          return await once(chunk, count, signal);
        } catch (error) {
          const retryable = error instanceof AppError && error.retryable;
          if (!retryable || attempt >= options.retries) throw error;
          await sleep(200 * 2 ** attempt, undefined, { signal });
        }
      }
    },
  };
}

/** The instructions of a chat completion body; a malformed reply yields none (counted, not fatal). */
export function parseInstructions(body: string): string[] {
  try {
    const completion = JSON.parse(body) as { choices?: { message?: { content?: unknown } }[] };
    const content = completion.choices?.[0]?.message?.content;
    if (typeof content !== "string") return [];
    const parsed = JSON.parse(content.replace(/^```(?:json)?\s*|\s*```$/g, "")) as { instructions?: unknown };
    return Array.isArray(parsed.instructions)
      ? parsed.instructions.filter((item): item is string => typeof item === "string")
      : [];
  } catch {
    return [];
  }
}
