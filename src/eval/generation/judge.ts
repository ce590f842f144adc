/**
 * The LLM judge over any OpenAI-compatible chat API (`/v1/chat/completions`: serve-llm, vLLM, TGI,
 * llama-server, OpenAI). Every call is constrained with `response_format: json_schema`, and its
 * reply is checked against that schema again here. A judge that fails, times out or returns junk
 * never throws: the metric is missing, with the reason. Transport failures (network, timeout, 429,
 * 5xx) are retried with backoff; junk is not (the same prompt at temperature 0 gives the same junk).
 */
import { z } from "zod";
import { chatCompletionsUrl, postJson } from "../../llm/openai-chat.js";
import { createUnreachableGuard } from "../../llm/unreachable.js";
import {
  buildJudgePrompt,
  JUDGE_PROMPTS_VERSION,
  type JudgeInput,
  type JudgeMetric,
} from "../../preprocessing/index.js";

export type MetricScore = { value: number; detail?: string } | { value: null; reason: string };

export type JudgeOptions = {
  /** Base URL (`http://host:8080`, `.../v1`) or the full `.../chat/completions` URL. */
  url: string;
  model: string;
  apiKey?: string;
  /** Per attempt. */
  timeoutMs: number;
  /** Extra attempts after a transport failure. */
  retries: number;
  /** First backoff delay, doubled per retry. */
  retryDelayMs?: number;
  /**
   * Before any call has succeeded, a judge that cannot be reached (refused, unknown host, 401/403)
   * throws instead of giving a missing score (eval generation stops; the online evaluator does not).
   */
  stopWhenUnreachable?: boolean;
};

export type Judge = {
  readonly model: string;
  readonly promptsVersion: string;
  score(metric: JudgeMetric, input: JudgeInput, signal?: AbortSignal): Promise<MetricScore>;
};

export { chatCompletionsUrl } from "../../llm/openai-chat.js";
export { DEFAULT_JUDGE_OPTIONS } from "./judge-defaults.js";

const itemsOf = <K extends string, F extends string>(item: K, flag: F) =>
  z.object({ items: z.array(z.object({ [item]: z.union([z.string(), z.number()]), [flag]: z.boolean() })) });

const SCHEMAS = {
  faithfulness: itemsOf("claim", "supported"),
  answerRelevance: z.object({ score: z.number().int().min(1).max(5), reason: z.string() }),
  contextPrecision: itemsOf("passage", "useful"),
  contextRecall: itemsOf("statement", "attributed"),
};

/** Missing before any call: what the metric needs is absent. */
function precondition(metric: JudgeMetric, input: JudgeInput): string | undefined {
  if (metric === "contextRecall" && (input.reference === undefined || input.reference.trim() === "")) {
    return "no reference answer for this question";
  }
  if (
    (metric === "contextPrecision" || metric === "contextRecall" || metric === "faithfulness") &&
    input.contexts.length === 0
  ) {
    return "no context was retrieved";
  }
  if ((metric === "faithfulness" || metric === "answerRelevance") && input.answer.trim() === "") {
    return "the answer is empty";
  }
  return undefined;
}

/** Turns the judge's checked reply into the metric's value in [0, 1]. */
export function metricFromReply(metric: JudgeMetric, reply: unknown, input: JudgeInput): MetricScore {
  const parsed = SCHEMAS[metric].safeParse(reply);
  if (!parsed.success) {
    return {
      value: null,
      reason: `the judge's reply does not follow the schema: ${parsed.error.issues[0]?.message ?? "invalid"}`,
    };
  }
  const data = parsed.data as { items?: Record<string, unknown>[]; score?: number; reason?: string };
  if (metric === "answerRelevance") {
    const score = data.score ?? 1;
    return { value: (score - 1) / 4, detail: data.reason ?? "" };
  }
  const items = data.items ?? [];
  const flag = metric === "faithfulness" ? "supported" : metric === "contextPrecision" ? "useful" : "attributed";
  const flags = items.map((item) => item[flag] === true);
  if (metric === "contextPrecision") {
    if (flags.length !== input.contexts.length) {
      return { value: null, reason: `the judge rated ${flags.length} passages, ${input.contexts.length} were given` };
    }
    return { value: averagePrecision(flags), detail: `${flags.filter(Boolean).length}/${flags.length} useful` };
  }
  if (flags.length === 0) {
    return {
      value: null,
      reason:
        metric === "faithfulness"
          ? "the judge found no claims in the answer"
          : "the judge found no statements in the reference",
    };
  }
  const hits = flags.filter(Boolean).length;
  return {
    value: hits / flags.length,
    detail: `${hits}/${flags.length} ${metric === "faithfulness" ? "claims supported" : "statements attributed"}`,
  };
}

/** Mean of precision@i over the ranks i of the useful passages (0 when none is useful), as RAGAS. */
export function averagePrecision(useful: readonly boolean[]): number {
  let hits = 0;
  let sum = 0;
  useful.forEach((isUseful, index) => {
    if (!isUseful) return;
    hits++;
    sum += hits / (index + 1);
  });
  return hits === 0 ? 0 : sum / hits;
}

class TransportFailure extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
  ) {
    super(message);
  }
}

export function createOpenAiJudge(options: JudgeOptions): Judge {
  const endpoint = chatCompletionsUrl(options.url);
  const retryDelayMs = options.retryDelayMs ?? 500;
  // With stopWhenUnreachable, until one call has succeeded, a judge that cannot be reached is thrown.
  const guard = createUnreachableGuard(
    {
      service: "the judge",
      url: endpoint,
      urlSetting: "--judge-url (LLM_TWIN_JUDGE_URL)",
      keySetting: "--judge-api-key (LLM_TWIN_JUDGE_API_KEY)",
    },
    { enabled: options.stopWhenUnreachable === true },
  );

  async function call(prompt: ReturnType<typeof buildJudgePrompt>, signal: AbortSignal | undefined): Promise<unknown> {
    const sent = await postJson(endpoint, {
      apiKey: options.apiKey,
      body: {
        model: options.model,
        messages: prompt.messages,
        temperature: 0,
        response_format: { type: "json_schema", json_schema: { ...prompt.schema, strict: true } },
      },
      timeoutMs: options.timeoutMs,
      signal,
    });
    if (!sent.ok) {
      if (sent.aborted) throw new TransportFailure("the run was stopped", false);
      if (sent.timedOut) throw new TransportFailure(`the judge did not answer within ${options.timeoutMs} ms`, true);
      guard.failed(sent);
      throw new TransportFailure(`cannot reach the judge at ${endpoint}: ${(sent.error as Error).message}`, true);
    }
    const { response, timeout } = sent;
    let text: string;
    try {
      text = await response.text();
    } catch (error) {
      if (timeout.aborted) throw new TransportFailure(`the judge did not answer within ${options.timeoutMs} ms`, true);
      throw new TransportFailure(`the judge's reply was cut: ${(error as Error).message}`, true);
    }
    guard.answered(response);
    if (!response.ok) {
      const retryable = response.status === 429 || response.status >= 500;
      // serve-llm with LoRA adapters (and vLLM) refuse a model name they do not serve.
      const hint = /unknown_adapter|model_not_found|does not exist/.test(text)
        ? ` (the judge does not serve model '${options.model}': set --judge-model, LLM_TWIN_JUDGE_MODEL, to one it lists at GET /v1/models)`
        : "";
      throw new TransportFailure(`the judge answered HTTP ${response.status}: ${text.slice(0, 200)}${hint}`, retryable);
    }
    return text;
  }

  return {
    model: options.model,
    promptsVersion: JUDGE_PROMPTS_VERSION,
    async score(metric, input, signal) {
      const missing = precondition(metric, input);
      if (missing !== undefined) return { value: null, reason: missing };
      const prompt = buildJudgePrompt(metric, input);
      let lastFailure = "";
      for (let attempt = 0; attempt <= options.retries; attempt++) {
        if (attempt > 0) await delay(retryDelayMs * 2 ** (attempt - 1), signal);
        let body: unknown;
        try {
          body = await call(prompt, signal);
        } catch (error) {
          if (!(error instanceof TransportFailure)) throw error;
          const failure = error;
          lastFailure = failure.message;
          if (!failure.retryable) break;
          continue;
        }
        const reply = parseReply(String(body));
        return reply.ok ? metricFromReply(metric, reply.value, input) : { value: null, reason: reply.reason };
      }
      return {
        value: null,
        reason: `${lastFailure}${options.retries > 0 ? ` (after ${options.retries + 1} attempts)` : ""}`,
      };
    },
  };
}

/** The message content of an OpenAI chat completion, parsed as JSON; junk becomes a reason. */
function parseReply(body: string): { ok: true; value: unknown } | { ok: false; reason: string } {
  let completion: unknown;
  try {
    completion = JSON.parse(body);
  } catch {
    return { ok: false, reason: "the judge's HTTP body is not JSON" };
  }
  const content = (completion as { choices?: { message?: { content?: unknown } }[] })?.choices?.[0]?.message?.content;
  if (typeof content !== "string") return { ok: false, reason: "the judge's reply has no choices[0].message.content" };
  try {
    return { ok: true, value: JSON.parse(stripCodeFence(content)) };
  } catch {
    return { ok: false, reason: `the judge's message is not JSON: ${JSON.stringify(content.slice(0, 80))}` };
  }
}

function stripCodeFence(text: string): string {
  const fenced = /^\s*```(?:json)?\s*([\s\S]*?)\s*```\s*$/.exec(text);
  return fenced?.[1] ?? text;
}

function delay(milliseconds: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, milliseconds);
    signal?.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });
}
