/**
 * Several sequences for one prompt (OpenAI `n`, TGI `best_of`): n engine requests run at once, one
 * sequence each, and their events are merged as they come, tagged with the choice index. The
 * requests form a choice group: on the native engine the first to generate lends its prompt KV to
 * the others (llama_memory_seq_cp), so the prompt is decoded once. Each choice samples with its
 * own RNG: seed + index when a seed is given, else a random seed each.
 */
import { AppError } from "../../errors/index.js";
import type { ChoiceGroup, EngineEvent, EngineRequest, LlamaCppEngine } from "./engine-types.js";

export type ChoiceEvent = { choice: number; event: EngineEvent };

type Step = { choice: number; result: IteratorResult<EngineEvent, void> };

/**
 * Most choices one request may ask for: the server's --max-n, at most its parallel sequences (each
 * choice holds one for the whole request; more would wait for one another).
 */
export function choiceLimit(engine: LlamaCppEngine): number {
  return Math.min(engine.info.maxChoices, engine.info.parallel);
}

/** Refuses `n` beyond choiceLimit(engine). `field` names the request field at fault. */
export function checkChoices(engine: LlamaCppEngine, n: number, field: string): void {
  const limit = choiceLimit(engine);
  if (n <= limit) return;
  const bound =
    engine.info.maxChoices <= engine.info.parallel
      ? `the server's limit of ${engine.info.maxChoices} (serve-llm --max-n / LLM_TWIN_MAX_N)`
      : `the ${engine.info.parallel} parallel sequences of this server (serve-llm --parallel / LLM_TWIN_PARALLEL)`;
  throw new AppError("too_many_choices", `\`${field}\` = ${n} exceeds ${bound}; ask for at most ${limit}`, {
    details: { field, requested: n, limit },
  });
}

/** Runs `n` choices of one request; with n = 1 it is engine.run with the index added. */
export function runChoices(
  engine: LlamaCppEngine,
  request: EngineRequest,
  n: number,
): AsyncGenerator<ChoiceEvent, void, void> {
  return n <= 1 ? singleChoice(engine.run(request)) : manyChoices(engine, request, n);
}

/** engine.run's events tagged with choice 0, without a generator of its own between them (one per token). */
function singleChoice(run: AsyncGenerator<EngineEvent, void, void>): AsyncGenerator<ChoiceEvent, void, void> {
  const tag = (result: IteratorResult<EngineEvent, void>): IteratorResult<ChoiceEvent, void> =>
    result.done === true
      ? { done: true, value: undefined }
      : { done: false, value: { choice: 0, event: result.value } };
  const tagged: AsyncGenerator<ChoiceEvent, void, void> = {
    next: () => run.next().then(tag),
    return: (value) => run.return(value).then(tag),
    throw: (error) => run.throw(error).then(tag),
    [Symbol.asyncIterator]: () => tagged,
  };
  return tagged;
}

async function* manyChoices(
  engine: LlamaCppEngine,
  request: EngineRequest,
  n: number,
): AsyncGenerator<ChoiceEvent, void, void> {
  const controller = new AbortController();
  const signal =
    request.signal === undefined ? controller.signal : AbortSignal.any([request.signal, controller.signal]);
  const group: ChoiceGroup = {};
  const seed = request.parameters.seed;
  const runs = Array.from({ length: n }, (_, choice) =>
    engine.run({
      ...request,
      parameters: {
        ...request.parameters,
        ...(seed === undefined ? {} : { seed: seed + choice }),
        choiceGroup: group,
      },
      signal,
    }),
  );
  const pending = new Map<number, Promise<Step>>();
  const advance = (choice: number): void => {
    const run = runs[choice];
    if (run !== undefined)
      pending.set(
        choice,
        run.next().then((result) => ({ choice, result })),
      );
  };
  for (let choice = 0; choice < n; choice += 1) advance(choice);
  try {
    while (pending.size > 0) {
      const { choice, result } = await Promise.race(pending.values());
      pending.delete(choice);
      if (result.done === true) continue;
      advance(choice);
      yield { choice, event: result.value };
    }
  } finally {
    // One choice failed or the consumer stopped: the others stop too, and every sequence is
    // released before this returns.
    controller.abort(new AppError("aborted", "The request was cancelled"));
    await Promise.allSettled(pending.values());
    await Promise.allSettled(runs.map((run) => run.return(undefined)));
  }
}
