/**
 * TGI's `watermark` on the tiny random-weight model: a watermarked generation holds clearly more
 * green tokens than chance, an unwatermarked one does not, `watermark: false` changes nothing, the
 * native sampler and the TypeScript detector apply the same rule, every TGI route takes the
 * parameter, and node-llama-cpp refuses it naming --engine native.
 *
 * The margins (300 new tokens each; distinct (previous, token) pairs scored, as the detector does by
 * default): without the watermark z is about standard normal, so |z| ≥ 4 has probability 6·10⁻⁵
 * per generation; measured here |z| ≤ 1.1. With δ = 2 the tiny model's flat logits make most
 * tokens green: sampled ≈ 90% of ~299 pairs (z ≈ 14; z < 4 would take a green fraction under 62%);
 * greedy loops, but its 76–78 distinct pairs are all green (z ≈ 8.8; z < 4 would take fewer than
 * 16 distinct all-green pairs, or under 73% green).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { detectWatermark, WATERMARK_Z_THRESHOLD } from "../../src/llm/watermark/index.js";
import { testEngineBackend } from "../../src/testing/engine-backend.js";
import { sseData, startTestService, type TestService } from "./helpers.js";

const native = testEngineBackend().backend !== "node-llama-cpp";
const TGI_ROUTES = ["/generate", "/generate_stream", "/", "/invocations"] as const;

let service: TestService;
beforeAll(async () => {
  service = await startTestService({ maxTotalTokens: 512, maxNewTokens: 400 });
});
afterAll(async () => {
  await service?.close();
});

const post = (target: TestService, url: string, payload: unknown) =>
  target.app.inject({
    method: "POST",
    url,
    payload: payload as object,
    headers: { "content-type": "application/json" },
  });

type Generated = { text: string; ids: number[] };

async function generate(target: TestService, inputs: string, parameters: Record<string, unknown>): Promise<Generated> {
  const response = await post(target, "/generate", {
    inputs,
    parameters: { max_new_tokens: 300, ignore_eos: true, details: true, ...parameters },
  });
  expect(response.statusCode, response.body).toBe(200);
  const body = response.json() as { generated_text: string; details: { tokens: Array<{ id: number }> } };
  return { text: body.generated_text, ids: body.details.tokens.map((token) => token.id) };
}

const MODES = [
  ["greedy", {}],
  ["sampled", { do_sample: true, seed: 11 }],
] as const;
const PROMPTS = ["The twin writes", "Once upon a time"];

describe.runIf(native)("watermark: true on the native engine", () => {
  for (const [mode, parameters] of MODES) {
    it(`${mode}: watermarked z ≥ 4, unwatermarked |z| < 4`, async () => {
      for (const prompt of PROMPTS) {
        const plain = detectWatermark((await generate(service, prompt, parameters)).ids);
        const marked = detectWatermark((await generate(service, prompt, { ...parameters, watermark: true })).ids);
        expect(Math.abs(plain.z), `${prompt}: ${JSON.stringify(plain)}`).toBeLessThan(WATERMARK_Z_THRESHOLD);
        expect(marked.z, `${prompt}: ${JSON.stringify(marked)}`).toBeGreaterThanOrEqual(WATERMARK_Z_THRESHOLD);
        expect(marked.greenFraction).toBeGreaterThan(plain.greenFraction);
      }
    });
  }

  it("is what the detector checks: with δ = 100 every token is green after the one before it, the first after the last prompt token", async () => {
    const prompt = "The twin writes";
    const tokenized = (await post(service, "/tokenize", { inputs: prompt })).json() as Array<{ id: number }>;
    const last = tokenized.at(-1)?.id as number;
    for (const gamma of [0.5, 0.25]) {
      const strong = await startTestService({ maxTotalTokens: 512, watermark: { gamma, delta: 100 } });
      try {
        for (const [mode, parameters] of MODES) {
          const { ids } = await generate(strong, prompt, { ...parameters, watermark: true, max_new_tokens: 100 });
          const result = detectWatermark([last, ...ids], { gamma, countRepeats: true });
          expect(result, `${mode}, gamma ${gamma}`).toMatchObject({ tokens: 100, green: 100 });
        }
      } finally {
        await strong.close();
      }
    }
  });

  it("is applied on every TGI route", async () => {
    const parameters = { max_new_tokens: 24, ignore_eos: true };
    const plain = (await generate(service, "Hi", parameters)).text;
    const marked = (await generate(service, "Hi", { ...parameters, watermark: true })).text;
    expect(marked).not.toBe(plain);
    const body = { inputs: "Hi", parameters: { ...parameters, watermark: true } };
    for (const url of ["/", "/invocations"]) {
      const response = await post(service, url, body);
      expect(response.statusCode, `${url}: ${response.body}`).toBe(200);
      expect(response.json(), url).toEqual([{ generated_text: marked }]);
    }
    for (const [url, payload] of [
      ["/generate_stream", body],
      ["/", { ...body, stream: true }],
      ["/invocations", { ...body, stream: true }],
    ] as const) {
      const response = await post(service, url, payload);
      expect(response.statusCode, `${url}: ${response.body}`).toBe(200);
      const events = sseData(response.body).map((data) => JSON.parse(data) as { generated_text: string | null });
      expect(events.at(-1)?.generated_text, url).toBe(marked);
    }
  });
});

describe("watermark: false, null or absent", () => {
  it("leaves the output byte-identical, greedy and sampled", async () => {
    for (const [mode, parameters] of MODES) {
      const base = await generate(service, "The twin writes", { ...parameters, max_new_tokens: 48 });
      for (const watermark of [false, null]) {
        const other = await generate(service, "The twin writes", { ...parameters, max_new_tokens: 48, watermark });
        expect(other, `${mode}, watermark: ${watermark}`).toEqual(base);
      }
    }
  });
});

describe.runIf(!native)("watermark: true on --engine node-llama-cpp", () => {
  it("is 422 naming --engine native, on every TGI route", async () => {
    for (const url of TGI_ROUTES) {
      const response = await post(service, url, { inputs: "Hi", parameters: { max_new_tokens: 4, watermark: true } });
      expect(response.statusCode, url).toBe(422);
      expect((response.json() as { error: string }).error, url).toMatch(/--engine native/);
    }
  });
});
