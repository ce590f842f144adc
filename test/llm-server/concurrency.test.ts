/**
 * Continuous batching, overload and cancellation over a real listening socket: two streams decode
 * together, a third request is refused with 429, and disconnecting frees the sequences at once.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { metricValue, startTestService, type TestService, waitFor } from "./helpers.js";

let service: TestService;
let baseUrl: string;
beforeAll(async () => {
  service = await startTestService({ parallel: 2, maxQueue: 0, maxConcurrentRequests: 2 });
  baseUrl = await service.app.listen({ host: "127.0.0.1", port: 0 });
});
afterAll(async () => {
  await service?.close();
});

async function metrics(): Promise<string> {
  return (await fetch(`${baseUrl}/metrics`)).text();
}

/** Starts a long stream and resolves once its first event has arrived. */
async function openStream(controller: AbortController, url = "/generate_stream") {
  const body =
    url === "/generate_stream"
      ? { inputs: "A long story", parameters: { max_new_tokens: 1900, ignore_eos: true } }
      : { prompt: "A long story", max_tokens: 1900, ignore_eos: true, temperature: 0, stream: true };
  const response = await fetch(`${baseUrl}${url}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
    signal: controller.signal,
  });
  expect(response.status).toBe(200);
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const first = await reader.read();
  expect(new TextDecoder().decode(first.value)).toMatch(/^data:/);
  return reader;
}

describe("continuous batching and cancellation", () => {
  it("decodes concurrent requests together, refuses the overflow with 429, and frees sequences on disconnect", async () => {
    const first = new AbortController();
    const second = new AbortController();
    const readers = [await openStream(first), await openStream(second, "/v1/completions")];

    const during = await metrics();
    expect(metricValue(during, "llm_twin_sequences_in_use")).toBe(2);

    const overflow = await fetch(`${baseUrl}/generate`, {
      method: "POST",
      body: JSON.stringify({ inputs: "one more", parameters: { max_new_tokens: 2 } }),
    });
    expect(overflow.status).toBe(429);
    expect(overflow.headers.get("retry-after")).toBe("1");
    expect(await overflow.json()).toEqual({ error: "Model is overloaded", error_type: "overloaded" });
    // OpenAI clients (RateLimitError) are told the bounds and their flags.
    const openAiOverflow = await fetch(`${baseUrl}/v1/completions`, {
      method: "POST",
      body: JSON.stringify({ prompt: "one more", max_tokens: 2 }),
    });
    expect(openAiOverflow.status).toBe(429);
    expect(((await openAiOverflow.json()) as { error: unknown }).error).toMatchObject({
      code: "overloaded",
      message: expect.stringMatching(/at most 2 requests at once and 0 waiting: serve-llm --max-concurrent-requests/),
    });

    // Keep reading a little so both sequences generate side by side, then disconnect.
    for (const reader of readers) await reader.read();
    first.abort();
    second.abort();

    await waitFor(async () => metricValue(await metrics(), "llm_twin_sequences_in_use") === 0, "sequences to be freed");
    const after = await metrics();
    // Tokens were generated while both sequences were in the same batch.
    const singles = metricValue(after, 'llm_twin_batch_size_bucket{le="1"}');
    expect(metricValue(after, "llm_twin_batch_size_count")).toBeGreaterThan(singles);
    const decodes = metricValue(after, "llm_twin_decode_batches_total");
    expect(decodes).toBeGreaterThan(0);
    expect(metricValue(after, "llm_twin_decode_batch_tokens_total")).toBeGreaterThan(decodes);
    // Both were cut short: far fewer than 2 × 1900 tokens.
    expect(metricValue(after, "llm_twin_generation_tokens_total")).toBeLessThan(3800);
    expect(after).toMatch(/llm_twin_requests_total\{endpoint="\/generate_stream",method="POST",status="499"\} 1/);
    expect(after).toMatch(/llm_twin_requests_total\{endpoint="\/generate",method="POST",status="429"\} 1/);

    // The freed sequences serve the next requests at once (with no queue, a held slot would be 429).
    const next = await Promise.all(
      [1, 2].map(() =>
        fetch(`${baseUrl}/generate`, {
          method: "POST",
          body: JSON.stringify({ inputs: "next", parameters: { max_new_tokens: 3 } }),
        }),
      ),
    );
    expect(next.map((response) => response.status)).toEqual([200, 200]);
  });

  it("a non-streaming request whose client disconnects is cancelled and frees its sequence", async () => {
    const controller = new AbortController();
    const pending = fetch(`${baseUrl}/generate`, {
      method: "POST",
      body: JSON.stringify({ inputs: "long", parameters: { max_new_tokens: 1900, ignore_eos: true } }),
      signal: controller.signal,
    }).catch((error: unknown) => error);
    await waitFor(async () => metricValue(await metrics(), "llm_twin_sequences_in_use") === 1, "the request to start");
    const before = metricValue(await metrics(), "llm_twin_generation_tokens_total");
    controller.abort();
    await pending;
    await waitFor(
      async () => metricValue(await metrics(), "llm_twin_sequences_in_use") === 0,
      "the sequence to be freed",
    );
    const generated = metricValue(await metrics(), "llm_twin_generation_tokens_total") - before;
    expect(generated).toBeLessThan(1900);
    expect(await metrics()).toMatch(/llm_twin_generations_total\{finish_reason="error"\} [1-9]/);
  });
});
