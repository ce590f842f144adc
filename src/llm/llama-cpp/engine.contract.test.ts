/**
 * The engine's generation contract, run against both backends (node-llama-cpp and the native loop)
 * on the generated tiny chat model. Random weights: the tests check mechanics, never wording.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tinyModelPath } from "../../gguf/index.js";
import type { EngineBackendName } from "./decode-port.js";
import { createLlamaCppEngine, type EngineEvent, type EngineRequest, type LlamaCppEngine } from "./engine.js";
import { nativeAddonBuilt } from "./native/addon.js";

const BACKENDS: EngineBackendName[] = ["node-llama-cpp", "native"];
/** The tiny model's end-of-sequence token. */
const EOS = 2;

async function collect(engine: LlamaCppEngine, request: EngineRequest): Promise<EngineEvent[]> {
  const events: EngineEvent[] = [];
  for await (const event of engine.run(request)) events.push(event);
  return events;
}

function tokensOf(events: EngineEvent[]): number[] {
  return events.flatMap((event) => (event.type === "token" ? [event.id] : []));
}

function doneOf(events: EngineEvent[]): Extract<EngineEvent, { type: "done" }> {
  const done = events.at(-1);
  if (done?.type !== "done") throw new Error("no done event");
  return done;
}

const prompt = (text: string, parameters: EngineRequest["parameters"] = {}): EngineRequest => ({
  input: { prompt: text },
  parameters: { maxNewTokens: 16, ...parameters },
});

describe.each(BACKENDS)("engine on %s", (backend) => {
  const skip = backend === "native" && !nativeAddonBuilt();
  let engine: LlamaCppEngine;
  beforeAll(async () => {
    if (skip) return;
    engine = await createLlamaCppEngine({
      modelPath: await tinyModelPath("chat"),
      backend,
      threads: 1,
      threadsBatch: 2,
      parallel: 2,
      contextSize: 2048,
    });
  });
  afterAll(async () => {
    await engine?.dispose();
  });

  it.skipIf(skip)("generates max tokens; the token texts add up to the text; reports its engine", async () => {
    expect(engine.info.engine).toBe(backend);
    // Only the native loop gives batches their own thread count; node-llama-cpp has one for all.
    expect(engine.info).toMatchObject({ threads: 1, threadsBatch: backend === "native" ? 2 : 1 });
    const events = await collect(engine, prompt("Hello", { maxNewTokens: 12, logitBias: { [EOS]: -100 } }));
    expect(events[0]?.type).toBe("start");
    const done = doneOf(events);
    expect(done.finishReason).toBe("length");
    expect(done.completionTokens).toBe(12);
    expect(tokensOf(events)).toHaveLength(12);
    const streamed = events.map((event) => (event.type === "token" ? event.text : "")).join("");
    expect(streamed).toBe(done.generatedText);
  });

  it.skipIf(skip)("the first generated token continues the prompt: its leading space stays", async () => {
    // "▁world" (SentencePiece), forced: after "Hello" it reads " world", as llama-server and TGI send it.
    const world = engine.tokenize("Hello world").at(-1) ?? -1;
    expect(engine.detokenize([world])).toBe("world");
    const events = await collect(engine, prompt("Hello", { maxNewTokens: 2, logitBias: { [world]: 100 } }));
    const done = doneOf(events);
    expect(done.generatedText).toBe(" world world");
    expect(events.flatMap((event) => (event.type === "token" ? [event.text] : []))).toEqual([" world", " world"]);
  });

  it.skipIf(skip)("under a grammar, never writes a control token (the grammar would read BOS as '<s>')", async () => {
    const bos = engine.tokenize("", { addSpecial: true })[0] ?? 1;
    const schema = {
      type: "object",
      properties: { a: { type: "string", minLength: 12, maxLength: 20 } },
      required: ["a"],
      additionalProperties: false,
    };
    for (const seed of [1, 2, 3]) {
      // BOS pushed hard: without the ban the grammar admits it inside the string as "<s>".
      const events = await collect(
        engine,
        prompt("Json", { jsonSchema: schema, maxNewTokens: 40, temperature: 0.7, seed, logitBias: { [bos]: 30 } }),
      );
      expect(tokensOf(events)).not.toContain(bos);
      const value = (JSON.parse(doneOf(events).generatedText) as { a: string }).a;
      expect([...value].length).toBeGreaterThanOrEqual(12);
      expect([...value].length).toBeLessThanOrEqual(20);
    }
  });

  it.skipIf(skip)("ends at a stop sequence with the text before it", async () => {
    const base = doneOf(await collect(engine, prompt("Stops", { maxNewTokens: 24, logitBias: { [EOS]: -100 } })));
    const text = base.generatedText;
    // A stop sequence from the middle of the greedy output (greedy runs are deterministic).
    const at = Math.floor(text.length / 2);
    const stop = text.slice(at, at + 2);
    expect(stop.length).toBe(2);
    const stopped = doneOf(
      await collect(engine, prompt("Stops", { maxNewTokens: 24, logitBias: { [EOS]: -100 }, stop: [stop] })),
    );
    expect(stopped.finishReason).toBe("stop");
    expect(stopped.generatedText).toBe(text.slice(0, text.indexOf(stop)));
    expect(engine.stats().sequencesInUse).toBe(0);
  });

  it.skipIf(skip)("samples reproducibly with a seed and reports it", async () => {
    const request = prompt("Seeded", { temperature: 0.9, topK: 40, topP: 0.95, seed: 1234, maxNewTokens: 20 });
    const first = await collect(engine, request);
    const second = await collect(engine, request);
    expect(tokensOf(first)).toEqual(tokensOf(second));
    expect(doneOf(first).seed).toBe(1234);
  });

  it.skipIf(skip)("reduces seeds above 2^32 modulo 2^32 (llama.cpp's seeds are 32-bit)", async () => {
    const seeded = (seed: number) =>
      collect(engine, prompt("Seeded", { temperature: 0.9, seed, maxNewTokens: 12, logitBias: { [EOS]: -100 } }));
    const small = await seeded(77);
    const large = await seeded(2 ** 32 + 77);
    expect(tokensOf(large)).toEqual(tokensOf(small));
    expect(doneOf(large).seed).toBe(77);
    // Not one value for every large seed (what a saturating cast did on arm64).
    const other = await seeded(2 ** 40 + 78);
    expect(doneOf(other).seed).toBe(78);
    await expect(seeded(-1)).rejects.toMatchObject({ code: "validation_error" });
  });

  it.skipIf(skip)("prompt cache: reuses a shared prefix, output identical to an uncached run", async () => {
    const shared = "You are a content creator. Context: ".concat("the quick brown fox jumps over it ".repeat(30));
    const greedy = (text: string, cachePrompt: boolean) =>
      collect(engine, prompt(text, { maxNewTokens: 16, logitBias: { [EOS]: -100 }, cachePrompt }));
    const uncached = await greedy(`${shared} Query: one`, false);
    expect(doneOf(uncached).cachedPromptTokens).toBe(0);
    // Another request with the same prefix, then the first prompt again: served from a cache.
    await greedy(`${shared} Query: two`, true);
    const cached = await greedy(`${shared} Query: one`, true);
    const done = doneOf(cached);
    expect(done.cachedPromptTokens).toBeGreaterThan(doneOf(uncached).promptTokens / 2);
    expect(done.cachedPromptTokens).toBeLessThan(done.promptTokens);
    expect(tokensOf(cached)).toEqual(tokensOf(uncached));
    expect(done.generatedText).toBe(doneOf(uncached).generatedText);
    // cache_prompt: false decodes everything again, with the same output.
    const again = await greedy(`${shared} Query: one`, false);
    expect(doneOf(again).cachedPromptTokens).toBe(0);
    expect(tokensOf(again)).toEqual(tokensOf(uncached));
  });

  it.skipIf(skip)("bans a token with logit bias and refuses ids outside the vocabulary", async () => {
    const greedy = tokensOf(await collect(engine, prompt("Ban", { maxNewTokens: 1 })));
    const banned = greedy[0] as number;
    const other = tokensOf(await collect(engine, prompt("Ban", { maxNewTokens: 1, logitBias: { [banned]: -100 } })));
    expect(other[0]).not.toBe(banned);
    await expect(collect(engine, prompt("Ban", { logitBias: { 100000: -100 } }))).rejects.toMatchObject({
      code: "validation_error",
    });
  });

  it.skipIf(skip)("ends at the end-of-sequence token, unless ignore_eos", async () => {
    const favoured = { logitBias: { [EOS]: 50 }, maxNewTokens: 8 };
    const endedEvents = await collect(engine, prompt("Eos", favoured));
    expect(doneOf(endedEvents).finishReason).toBe("eos");
    expect(tokensOf(endedEvents).at(-1)).toBe(EOS);
    const ignored = await collect(engine, prompt("Eos", { ...favoured, ignoreEos: true }));
    expect(doneOf(ignored).finishReason).toBe("length");
    expect(tokensOf(ignored)).not.toContain(EOS);
  });

  it.skipIf(skip)("follows a JSON schema grammar", async () => {
    const schema = { type: "object", properties: { ok: { type: "boolean" } }, required: ["ok"] };
    const done = doneOf(await collect(engine, prompt("Json", { jsonSchema: schema, maxNewTokens: 64 })));
    expect(done.finishReason).toBe("eos");
    expect(typeof (JSON.parse(done.generatedText) as { ok: unknown }).ok).toBe("boolean");
  });

  it.skipIf(skip)("keeps serving after a grammar request with end of generation banned", async () => {
    const schema = { type: "object", properties: { ok: { type: "boolean" } }, required: ["ok"] };
    const outcome = await collect(
      engine,
      prompt("Json", { jsonSchema: schema, maxNewTokens: 64, ignoreEos: true }),
    ).then(
      (events) => doneOf(events).finishReason,
      (error: unknown) => (error as { code?: string }).code,
    );
    // The request ends one way or another (a backend may fail it); the engine keeps serving.
    expect(outcome).toBeDefined();
    expect(doneOf(await collect(engine, prompt("After", { maxNewTokens: 4 }))).completionTokens).toBeGreaterThan(0);
    expect(engine.stats().sequencesInUse).toBe(0);
  });

  it.skipIf(skip)("applies a repetition penalty and reports log-probabilities", async () => {
    const events = await collect(
      engine,
      prompt("Penalty", { repetitionPenalty: 1.3, logprobs: true, maxNewTokens: 8, ignoreEos: true }),
    );
    expect(doneOf(events).completionTokens).toBe(8);
    for (const event of events) {
      if (event.type !== "token") continue;
      expect(event.logprob).not.toBeNull();
      expect(event.logprob as number).toBeLessThanOrEqual(0);
    }
  });

  it.skipIf(skip)("frees the sequence as soon as a request is cancelled", async () => {
    const controller = new AbortController();
    let tokens = 0;
    const consume = (async () => {
      for await (const event of engine.run({
        ...prompt("Long", { maxNewTokens: 1900, ignoreEos: true }),
        signal: controller.signal,
      })) {
        if (event.type === "token") tokens += 1;
        if (tokens === 3) controller.abort();
      }
    })();
    await expect(consume).rejects.toMatchObject({ code: "aborted" });
    expect(tokens).toBe(3);
    expect(engine.stats().sequencesInUse).toBe(0);
    // Both sequences are usable at once.
    const both = await Promise.all([collect(engine, prompt("a")), collect(engine, prompt("b"))]);
    expect(both.map((events) => doneOf(events).completionTokens)).toHaveLength(2);
  });

  it.skipIf(skip)("decodes concurrent requests together", async () => {
    const before = engine.stats().decode;
    const long = prompt("Together", { maxNewTokens: 300, ignoreEos: true });
    const short = prompt("Together", { maxNewTokens: 24, ignoreEos: true });
    const results = await Promise.all([collect(engine, long), collect(engine, short)]);
    expect(results.map((events) => doneOf(events).completionTokens)).toEqual([300, 24]);
    const after = engine.stats().decode;
    // 324 tokens; at least half of the short request's were decoded in the long one's batches.
    expect(after.batches - before.batches).toBeLessThan(324 - 12);
    expect(after.tokens - before.tokens).toBeGreaterThanOrEqual(324);
    expect(after.itemsWithoutSequence).toBe(0);
  });
});

describe.each(BACKENDS)("engine lifecycle on %s", (backend) => {
  const skip = backend === "native" && !nativeAddonBuilt();

  it.skipIf(skip)("times out a long generation and frees its sequence", async () => {
    const engine = await createLlamaCppEngine({
      modelPath: await tinyModelPath("chat"),
      backend,
      threads: 1,
      parallel: 1,
      contextSize: 2048,
      requestTimeoutMs: 30,
    });
    try {
      // 2,000 tokens take far longer than 30 ms on any machine.
      await expect(collect(engine, prompt("Slow", { maxNewTokens: 2000, ignoreEos: true }))).rejects.toMatchObject({
        code: "timeout",
      });
      expect(engine.stats().sequencesInUse).toBe(0);
    } finally {
      await engine.dispose();
    }
  });

  it.skipIf(skip)("disposes while generating: the request ends with shutting_down", async () => {
    const engine = await createLlamaCppEngine({
      modelPath: await tinyModelPath("chat"),
      backend,
      threads: 1,
      parallel: 2,
      contextSize: 2048,
    });
    let tokens = 0;
    let disposing: Promise<void> | undefined;
    const consume = (async () => {
      for await (const event of engine.run(prompt("Dispose", { maxNewTokens: 2000, ignoreEos: true }))) {
        if (event.type === "token") tokens += 1;
        if (tokens === 2) disposing = engine.dispose();
      }
    })();
    await expect(consume).rejects.toMatchObject({ code: "shutting_down" });
    await disposing;
    expect(engine.disposed).toBe(true);
    await engine.dispose();
  });
});

describe.skipIf(!nativeAddonBuilt())("native vs node-llama-cpp", () => {
  type EngineShape = { parallel?: number; batchSize?: number };

  /** One request's events on a fresh engine of `backend` (tiny chat model, one thread). */
  async function eventsOn(backend: EngineBackendName, request: EngineRequest, options: EngineShape = {}) {
    const engine = await createLlamaCppEngine({
      modelPath: await tinyModelPath("chat"),
      backend,
      threads: 1,
      parallel: options.parallel ?? 1,
      ...(options.batchSize === undefined ? {} : { batchSize: options.batchSize }),
    });
    try {
      return await collect(engine, request);
    } finally {
      await engine.dispose();
    }
  }

  /** The request's events on each backend in turn (node-llama-cpp first). */
  async function eventsOnBoth(request: EngineRequest, options: EngineShape = {}): Promise<EngineEvent[][]> {
    const outputs: EngineEvent[][] = [];
    for (const backend of BACKENDS) outputs.push(await eventsOn(backend, request, options));
    return outputs;
  }

  it("generate the same greedy tokens", async () => {
    const outputs = (await eventsOnBoth(prompt("Same", { maxNewTokens: 32, ignoreEos: true }))).map(tokensOf);
    expect(outputs[1]).toEqual(outputs[0]);
  });

  it("pick the same greedy tokens under logit biases (the native loop's greedy picker)", async () => {
    const plain = tokensOf(await eventsOn("native", prompt("Biased", { maxNewTokens: 24, ignoreEos: true })));
    // Ban the first three tokens greedy chose and nudge a fourth: the outputs must change, alike.
    const [first = 0, second = 1, third = 2, fourth = 3] = [...new Set(plain)];
    const logitBias = { [first]: -100, [second]: -100, [third]: -100, [fourth]: 1.5, 7: 0.25 };
    const request = prompt("Biased", { maxNewTokens: 24, ignoreEos: true, logitBias });
    const outputs = (await eventsOnBoth(request)).map(tokensOf);
    expect(outputs[1]).toEqual(outputs[0]);
    expect(outputs[1]).not.toEqual(plain);
    expect(outputs[1]).not.toContain(first);
    expect(outputs[1]).not.toContain(EOS);
  });

  it("apply OpenAI's frequency and presence penalties alike, over the generated tokens", async () => {
    const request = (penalties: { frequencyPenalty?: number; presencePenalty?: number }) =>
      prompt("Again", { maxNewTokens: 96, ignoreEos: true, ...penalties });
    const repeats = (tokens: number[]) => tokens.length - new Set(tokens).size;
    const plain = tokensOf(await eventsOn("native", request({})));
    expect(repeats(plain)).toBeGreaterThan(0);
    for (const penalties of [{ frequencyPenalty: 2 }, { presencePenalty: 2 }, { frequencyPenalty: -2 }]) {
      const outputs = (await eventsOnBoth(request(penalties))).map(tokensOf);
      const [reference = [], native = []] = outputs;
      expect(native, JSON.stringify(penalties)).toEqual(reference);
      expect(native, JSON.stringify(penalties)).not.toEqual(plain);
      // Penalties lower repeated tokens' logits, negative ones raise them.
      if ((penalties.frequencyPenalty ?? 0) + (penalties.presencePenalty ?? 0) > 0) {
        expect(repeats(native)).toBeLessThan(repeats(plain));
      } else {
        expect(repeats(native)).toBeGreaterThan(repeats(plain));
      }
    }
  });

  it("chunk a prompt longer than the batch size alike", async () => {
    const long = prompt("one two three four five six seven eight nine ten ".repeat(4), {
      maxNewTokens: 16,
      ignoreEos: true,
    });
    const runs = await eventsOnBoth(long, { parallel: 2, batchSize: 8 });
    for (const events of runs) {
      const start = events[0];
      expect(start?.type === "start" && start.promptTokens).toBeGreaterThan(24);
    }
    const outputs = runs.map(tokensOf);
    expect(outputs[0]).toHaveLength(16);
    expect(outputs[1]).toEqual(outputs[0]);
  });
});
