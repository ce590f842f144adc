/**
 * The node-llama-cpp backend: one context with N sequences, `evaluateWithMetadata` per request,
 * decode batches in sequence order (batch-gate.ts), sampling through node-llama-cpp. A sequence
 * keeps its tokens after a request: the next one on it evaluates only what follows the longest
 * common prefix (prompt caching).
 */
import type { Llama, LlamaContext, LlamaContextSequence, LlamaModel, Token } from "node-llama-cpp";
import { AppError } from "../../errors/index.js";
import { createBatchGate } from "./batch-gate.js";
import type {
  DecodeBackend,
  GeneratedToken,
  GenerationJob,
  PreparedSampling,
  SamplingRequest,
  TokenLogprob,
  TokenStream,
} from "./decode-port.js";
import { createSequenceResolver } from "./queued-sequences.js";
import { BAN_THRESHOLD, createSamplingFactory, type SamplingSetup } from "./sampling.js";
import { guardSampling, samplingFailure } from "./sampling-guard.js";

type Prepared = PreparedSampling & { setup: SamplingSetup; history: number[]; constrained: boolean };

export type NodeLlamaCppBackendOptions = {
  contextSize: number;
  parallel: number;
  threads: number;
  batchSize: number;
  flashAttention: boolean | "auto";
};

export async function createNodeLlamaCppBackend(
  llama: Llama,
  model: LlamaModel,
  options: NodeLlamaCppBackendOptions,
): Promise<DecodeBackend<Prepared>> {
  const sequences = createSequenceResolver();
  const gate = createBatchGate({ sequenceOf: sequences.sequenceOf });
  const context: LlamaContext = await model.createContext({
    contextSize: options.contextSize,
    sequences: options.parallel,
    threads: options.threads,
    batchSize: options.batchSize,
    flashAttention: options.flashAttention,
    batching: { itemPrioritizationStrategy: gate.prioritize },
  });
  sequences.attach(context);
  const slots: LlamaContextSequence[] = [];
  for (let index = 0; index < options.parallel; index += 1) slots.push(context.getSequence());
  const sampling = createSamplingFactory(llama, model);
  const guard = guardSampling(context);

  function generate(job: GenerationJob, prepared: Prepared): TokenStream {
    const sequence = slots[job.slot];
    if (sequence === undefined) throw new RangeError(`no sequence ${job.slot}`);
    // The repetition penalty reads this history (prompt + generated) through the setup's closure.
    const generated = prepared.history;
    const prompt = job.promptTokens as Token[];
    let cachedTokens = 0;
    let promptLogprobs: number[] | undefined;
    // Keeps the longest common prefix of the sequence's tokens (at least one prompt token is
    // evaluated, for its logits) and evaluates the rest; without cachePrompt, everything.
    const evaluate = async function* () {
      let reuse = 0;
      if (job.cachePrompt && job.promptLogprobs !== true) {
        reuse = Math.min(sequence.compareContextTokens(prompt).firstDifferentIndex, prompt.length - 1);
        if (reuse < sequence.nextTokenIndex) {
          await sequence.eraseContextTokenRanges([{ start: reuse, end: sequence.nextTokenIndex }]);
        }
      } else if (sequence.nextTokenIndex > 0) {
        await sequence.clearHistory();
      }
      cachedTokens = reuse;
      if (job.promptLogprobs === true) {
        promptLogprobs = await evaluatePromptLogprobs(sequence, prompt);
        reuse = prompt.length - 1;
      }
      // node-llama-cpp's probabilities are those after its samplers (temperature, bias, top-k/p):
      // the whole vocabulary as a Map, most likely first, only when alternatives are asked for.
      const metadata = (job.topLogprobs ?? 0) > 0 ? { confidence: true, probabilities: true } : { confidence: true };
      yield* sequence.evaluateWithMetadata(prompt.slice(reuse), job.logprobs ? metadata : {}, prepared.setup.options);
    };
    const evaluation = evaluate();
    type Step = IteratorResult<{ token: Token; confidence?: number; probabilities?: Map<Token, number> }>;
    // Counted by the batch gate from the first request for a token until no more will follow.
    let asking = false;
    const stopAsking = (): void => {
      if (asking) gate.generationEnded();
      asking = false;
    };
    const askForToken = (): Promise<Step> => {
      if (!asking) gate.generationStarted();
      asking = true;
      const step = evaluation.next() as Promise<Step>;
      // Asked ahead, awaited later (next or close): a failure in between is not unhandled.
      step.catch(() => undefined);
      return step;
    };
    // The next token is asked for as soon as this one arrives, before the engine detokenizes it
    // and hands it to the consumer: the sequence's next decode is queued within a few microtasks,
    // so it joins the same batch as the other sequences' (see batch-gate.ts).
    let pending: Promise<Step> | undefined = askForToken();
    return {
      async next() {
        if (pending === undefined) return undefined;
        let step: Step;
        try {
          step = await pending;
        } catch (error) {
          throw samplingFailure(error, { constrained: prepared.constrained, cause: guard?.lastFailure() });
        } finally {
          pending = undefined;
        }
        if (step.done === true) {
          stopAsking();
          return undefined;
        }
        const { token, confidence, probabilities } = step.value;
        // Pushed before the next token is asked for: the repetition penalty reads this history.
        generated.push(token);
        const last = job.stopTokens.has(token) || model.isEogToken(token) || generated.length >= job.maxTokens;
        if (!last && !job.signal.aborted) pending = askForToken();
        else stopAsking();
        const item: GeneratedToken = { token, logprob: confidence === undefined ? null : Math.log(confidence) };
        if (probabilities !== undefined) item.top = topOf(probabilities, job.topLogprobs ?? 0);
        if (promptLogprobs !== undefined) item.promptLogprobs = promptLogprobs;
        promptLogprobs = undefined;
        return item;
      },
      async close() {
        stopAsking();
        // A token asked for ahead (a stop sequence ended the text, or cancellation) is awaited
        // and dropped, so that the sequence is idle before it is cleared and reused.
        if (pending !== undefined) await pending.catch(() => undefined);
        pending = undefined;
        await evaluation.return(undefined);
      },
      cachedPromptTokens: () => cachedTokens,
    };
  }

  return {
    name: "node-llama-cpp",
    async prepare(parameters, promptTokens) {
      const history: number[] = [];
      const constrained = parameters.grammar !== undefined || parameters.jsonSchema !== undefined;
      if (guard === undefined && constrained && (parameters.ignoreEos === true || bansTokens(parameters))) {
        // Without the guard a grammar dead end would end the process (sampling-guard.ts).
        throw new AppError(
          "validation_error",
          "Input validation error: on --engine node-llama-cpp a grammar (response_format, grammar or tools) cannot be " +
            "combined with a logit_bias ban or ignore_eos; drop the ban or use --engine native",
        );
      }
      const setup = await sampling.create(
        parameters,
        () => promptTokens.concat(history),
        () => history,
      );
      setup.options.yieldEogToken = true;
      return { seed: setup.seed, setup, history, constrained };
    },
    generate,
    decodeStats: () => gate.stats(),
    async dispose() {
      await context.dispose();
    },
  };
}

function bansTokens(parameters: SamplingRequest): boolean {
  return Object.values(parameters.logitBias ?? {}).some((bias) => bias <= BAN_THRESHOLD);
}

/** The first `count` entries of node-llama-cpp's probabilities (sorted, most likely first) as logprobs. */
function topOf(probabilities: ReadonlyMap<Token, number>, count: number): TokenLogprob[] {
  const top: TokenLogprob[] = [];
  for (const [token, probability] of probabilities) {
    // Tokens its samplers excluded (banned, cut by top-k/top-p) have probability 0: not alternatives.
    if (top.length >= count || probability <= 0) break;
    top.push({ token, logprob: Math.log(probability) });
  }
  return top;
}

/** Prompt positions whose probabilities are held at once (each is a Map over the vocabulary). */
const PROMPT_LOGPROB_CHUNK = 32;

/**
 * Evaluates every prompt token but the last into the (cleared) sequence, asking node-llama-cpp
 * for the next-token probabilities at each position: the logprob of prompt tokens 1…n−1 given
 * the ones before (TGI's prefill details). In chunks, so that few vocabulary-sized Maps live at once.
 */
async function evaluatePromptLogprobs(sequence: LlamaContextSequence, prompt: readonly Token[]): Promise<number[]> {
  const logprobs: number[] = [];
  for (let start = 0; start < prompt.length - 1; start += PROMPT_LOGPROB_CHUNK) {
    const end = Math.min(prompt.length - 1, start + PROMPT_LOGPROB_CHUNK);
    const items = prompt
      .slice(start, end)
      .map((token): [Token, { generateNext: { probabilities: true } }] => [
        token,
        { generateNext: { probabilities: true } },
      ]);
    const results = await sequence.controlledEvaluate(items);
    results.forEach((result, index) => {
      const next = prompt[start + index + 1];
      const probability = next === undefined ? undefined : result?.next?.probabilities?.get(next);
      logprobs.push(probability === undefined ? Number.NaN : Math.log(probability));
    });
  }
  return logprobs;
}
