/**
 * The LanguageModel port. Adapters: in-process llama.cpp, and HTTP clients for TGI (this
 * project's LLM service speaks it too), OpenAI-compatible servers and the SageMaker runtime.
 */

export type ChatMessage = { role: "system" | "user" | "assistant"; content: string };

/** A tool the model may call (OpenAI's `function`): rendered by chat templates that support tools. */
export type ChatTool = { name: string; description?: string; parameters?: Record<string, unknown> };

export type LanguageModelInput = { prompt: string } | { messages: readonly ChatMessage[]; tools?: readonly ChatTool[] };

export type GenerationParameters = {
  maxNewTokens?: number;
  /** 0 means greedy. */
  temperature?: number;
  topK?: number;
  topP?: number;
  /** Locally typical sampling (TGI's `typical_p`, 0 < p < 1; native engine only), when sampling. */
  typicalP?: number;
  repetitionPenalty?: number;
  /**
   * OpenAI's (−2…2): a token's logit is lowered by frequencyPenalty × its count in the generated
   * text and by presencePenalty once it occurs there; 0 = off.
   */
  frequencyPenalty?: number;
  presencePenalty?: number;
  stop?: readonly string[];
  seed?: number;
  /** Constrain the output to JSON matching this JSON schema. */
  jsonSchema?: Record<string, unknown>;
  /** Constrain the output to this GBNF grammar (root rule `root`); takes precedence over jsonSchema. */
  grammar?: string;
  /** Token id → bias added to its logit (-Infinity bans it). */
  logitBias?: Readonly<Record<number, number>>;
  /** A LoRA adapter the server has loaded, by name (TGI `adapter_id`, OpenAI `model`); default the base model. */
  adapter?: string;
  /**
   * TGI's `watermark`: boost the green list of each step by the engine's delta (src/llm/watermark;
   * native engine only).
   */
  watermark?: boolean;
};

export type GenerateRequest = LanguageModelInput &
  GenerationParameters & {
    signal?: AbortSignal;
  };

export type FinishReason = "length" | "stop" | "eos";

export type Usage = { promptTokens: number; completionTokens: number };

export type GenerateResult = {
  text: string;
  finishReason: FinishReason;
  usage: Usage;
};

export type StreamPart =
  | { type: "token"; text: string; tokenId?: number }
  | { type: "done"; finishReason: FinishReason; usage: Usage };

export type LanguageModel = {
  /** Model id as reported to clients, e.g. "twin" or a file name. */
  readonly id: string;
  generate(request: GenerateRequest): Promise<GenerateResult>;
  /** Token parts, then exactly one `done`. Aborting the signal stops generation and frees resources. */
  stream(request: GenerateRequest): AsyncIterable<StreamPart>;
  /** True when the model can serve now (loaded, upstream reachable). */
  health(options?: { signal?: AbortSignal }): Promise<boolean>;
  [Symbol.asyncDispose](): Promise<void>;
};
