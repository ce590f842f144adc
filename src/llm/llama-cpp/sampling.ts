/**
 * Generation parameters → node-llama-cpp evaluate options: temperature (0 = greedy), top-k,
 * top-p, repetition penalty, seed, token bias and JSON-schema grammar. Grammars are compiled once
 * per schema (src/llm/grammar) and kept in a small cache.
 */
import {
  type Llama,
  type LlamaGrammar,
  LlamaGrammarEvaluationState,
  type LlamaModel,
  type SequenceEvaluateOptions,
  type Token,
  TokenBias,
} from "node-llama-cpp";
import { AppError } from "../../errors/index.js";
import { jsonSchemaToGbnf } from "../grammar/json-schema-gbnf.js";
import type { GenerationParameters } from "../port.js";

const GRAMMAR_CACHE_SIZE = 32;
const REPEAT_PENALTY_WINDOW = 64;
/** A bias at or below this bans the token (OpenAI's -100 convention). */
export const BAN_THRESHOLD = -100;

export type SamplingSetup = {
  options: SequenceEvaluateOptions;
  /** The seed used (random when sampling without one), reported in TGI details. */
  seed: number | undefined;
};

export type SamplingFactory = {
  /** `history`: prompt + generated tokens (the repetition penalty's window); `generated`: those generated. */
  create(
    parameters: GenerationParameters & { ignoreEos?: boolean },
    history: () => number[],
    generated: () => number[],
  ): Promise<SamplingSetup>;
};

/**
 * JSON schema (or GBNF text) → compiled grammar, compiled once per schema (small LRU), shared by
 * both backends.
 */
export function createGrammarCache(llama: Llama): (schema: Record<string, unknown> | string) => Promise<LlamaGrammar> {
  const grammars = new Map<string, Promise<LlamaGrammar>>();
  return async function grammarFor(schema) {
    const key = typeof schema === "string" ? `gbnf:${schema}` : JSON.stringify(schema);
    let grammar = grammars.get(key);
    if (grammar === undefined) {
      // Our own converter, not createGrammarForJsonSchema: its numbers are unbounded (Infinity)
      // and it ignores keywords such as minimum or maxLength (issue #15 item 6).
      grammar = Promise.resolve().then(() =>
        llama.createGrammar({ grammar: typeof schema === "string" ? schema : jsonSchemaToGbnf(schema) }),
      );
      grammars.set(key, grammar);
      if (grammars.size > GRAMMAR_CACHE_SIZE) {
        const oldest = grammars.keys().next().value;
        if (oldest !== undefined) grammars.delete(oldest);
      }
    }
    try {
      return await grammar;
    } catch (error) {
      grammars.delete(key);
      if (error instanceof AppError) throw error;
      throw new AppError(
        "validation_error",
        `Input validation error: llama.cpp could not build the grammar of this schema (${messageOf(error)}); a $ref that reaches itself before any { or [ (left recursion) or a very large repetition is what it refuses`,
        {
          cause: error,
        },
      );
    }
  };
}

/** llama.cpp's samplers take 32-bit seeds. */
const SEED_MODULUS = 2 ** 32;

/**
 * The seed to sample with: the request's reduced modulo 2^32 (llama.cpp's seeds are 32-bit, so
 * 2^32 + 5 samples like 5, on every platform), else random; none for greedy decoding.
 */
export function seedFor(parameters: GenerationParameters): number | undefined {
  if ((parameters.temperature ?? 0) <= 0) return undefined;
  if (parameters.seed === undefined) return Math.floor(Math.random() * 2 ** 31);
  if (!Number.isSafeInteger(parameters.seed) || parameters.seed < 0) {
    throw new AppError(
      "validation_error",
      `Input validation error: \`seed\` must be a non-negative integer. Given: ${parameters.seed}`,
    );
  }
  return parameters.seed % SEED_MODULUS;
}

/**
 * The request's logit bias as (token, bias) pairs, ids checked; a bias ≤ −100 bans (−Infinity).
 * `grammarBans`: tokens banned whenever a grammar applies (controlTokensOf), whatever the request's
 * own bias says of them.
 */
export function logitBiasEntries(
  parameters: GenerationParameters,
  vocabularySize: number,
  grammarBans: readonly number[] = [],
): Array<[number, number]> {
  const entries: Array<[number, number]> = [];
  for (const [key, value] of Object.entries(parameters.logitBias ?? {})) {
    const token = Number(key);
    if (!Number.isInteger(token) || token < 0 || token >= vocabularySize) {
      throw new AppError(
        "validation_error",
        `Input validation error: logit_bias token id ${key} is not in the vocabulary`,
        { details: { param: "logit_bias" } },
      );
    }
    entries.push([token, value <= BAN_THRESHOLD ? Number.NEGATIVE_INFINITY : value]);
  }
  if (grammarBans.length === 0 || (parameters.grammar ?? parameters.jsonSchema) === undefined) return entries;
  const banned = new Set(grammarBans);
  return [
    ...entries.filter(([token]) => !banned.has(token)),
    ...grammarBans.map((token): [number, number] => [token, Number.NEGATIVE_INFINITY]),
  ];
}

/** GGUF tokenizer.ggml.token_type values whose text is not output text. */
const UNKNOWN_TOKEN_TYPE = 2;
const CONTROL_TOKEN_TYPE = 3;
const controlTokens = new WeakMap<LlamaModel, readonly number[]>();

/**
 * Control and unknown tokens that do not end generation (BOS, a chat template's role markers,
 * `<unk>`). llama.cpp's grammar reads such a token as its special text ("<s>"), which a JSON
 * string admits, yet the output renders it as nothing: a string the grammar counted as 16
 * characters came out with 13. A grammar-constrained request can never mean to write one, so they
 * are banned whenever a grammar applies. Read once per model from the vocabulary's token types.
 */
export function controlTokensOf(model: LlamaModel): readonly number[] {
  const known = controlTokens.get(model);
  if (known !== undefined) return known;
  const metadata = model.fileInfo.metadata as { tokenizer?: { ggml?: { token_type?: readonly unknown[] } } };
  const types = metadata.tokenizer?.ggml?.token_type ?? [];
  const tokens: number[] = [];
  for (let token = 0; token < types.length; token += 1) {
    const type = types[token];
    if ((type === CONTROL_TOKEN_TYPE || type === UNKNOWN_TOKEN_TYPE) && !model.isEogToken(token as Token)) {
      tokens.push(token);
    }
  }
  controlTokens.set(model, tokens);
  return tokens;
}

export function createSamplingFactory(llama: Llama, model: LlamaModel): SamplingFactory {
  const grammarFor = createGrammarCache(llama);
  const vocabularySize = vocabularySizeOf(model);

  return {
    async create(parameters, history, generated) {
      const options: SequenceEvaluateOptions = {};
      const temperature = parameters.temperature ?? 0;
      const seed = seedFor(parameters);
      if (seed !== undefined) {
        options.temperature = temperature;
        options.seed = seed;
        if (parameters.topK !== undefined) options.topK = parameters.topK;
        if (parameters.topP !== undefined) options.topP = parameters.topP;
        if (parameters.typicalP !== undefined && parameters.typicalP < 1) {
          throw new AppError(
            "validation_error",
            "Input validation error: `typical_p` needs the native engine (--engine native); node-llama-cpp has no typical sampler",
          );
        }
      }
      if (parameters.watermark === true) {
        throw new AppError(
          "validation_error",
          "Input validation error: `watermark` needs the native engine (--engine native); node-llama-cpp has no per-step green-list sampler",
        );
      }
      const repetition = parameters.repetitionPenalty ?? 1;
      const repeat = repetition !== 1;
      const frequency = parameters.frequencyPenalty ?? 0;
      const presence = parameters.presencePenalty ?? 0;
      if (repeat && (frequency !== 0 || presence !== 0)) {
        // node-llama-cpp applies all three to one token list; OpenAI's two count generated tokens only.
        throw new AppError(
          "validation_error",
          "Input validation error: on --engine node-llama-cpp repetition_penalty cannot be combined with " +
            "frequency_penalty or presence_penalty; use one of them, or --engine native",
        );
      }
      if (repeat) {
        options.repeatPenalty = {
          punishTokens: () => history().slice(-REPEAT_PENALTY_WINDOW) as Token[],
          maxPunishTokens: REPEAT_PENALTY_WINDOW,
          penalty: repetition,
        };
      } else if (frequency !== 0 || presence !== 0) {
        options.repeatPenalty = {
          // All generated tokens (node-llama-cpp sizes its buffer to the list when it is longer).
          punishTokens: () => generated() as Token[],
          maxPunishTokens: REPEAT_PENALTY_WINDOW,
          penalty: 1,
          frequencyPenalty: frequency,
          presencePenalty: presence,
        };
      }
      const bias = logitBiasEntries(parameters, vocabularySize, controlTokensOf(model));
      if (bias.length > 0 || parameters.ignoreEos === true) {
        const tokenBias = new TokenBias(model.tokenizer);
        if (parameters.ignoreEos === true) banEndOfGeneration(tokenBias, model);
        for (const [token, value] of bias) {
          tokenBias.set(token as Token, value === Number.NEGATIVE_INFINITY ? "never" : { logit: value });
        }
        options.tokenBias = tokenBias;
      }
      const grammarSource = parameters.grammar ?? parameters.jsonSchema;
      if (grammarSource !== undefined) {
        const grammar = await grammarFor(grammarSource);
        options.grammarEvaluationState = new LlamaGrammarEvaluationState({ model, grammar });
      }
      return { options, seed };
    },
  };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export function vocabularySizeOf(model: LlamaModel): number {
  const metadata = model.fileInfo.metadata as { tokenizer?: { ggml?: { tokens?: readonly unknown[] } } };
  return metadata.tokenizer?.ggml?.tokens?.length ?? Number.POSITIVE_INFINITY;
}

/**
 * TokenBias.set() refuses end-of-generation tokens on purpose, so `ignore_eos` writes the ban into
 * its bias map directly (the map node-llama-cpp hands to the native sampler).
 */
function banEndOfGeneration(tokenBias: TokenBias, model: LlamaModel): void {
  const biases = (tokenBias as unknown as { _biases?: Map<number, number> })._biases;
  if (!(biases instanceof Map)) {
    throw new AppError("configuration_error", "ignore_eos is not supported by this node-llama-cpp version");
  }
  for (const token of [model.tokens.eos, model.tokens.eot])
    if (token !== null) biases.set(token, Number.NEGATIVE_INFINITY);
}
