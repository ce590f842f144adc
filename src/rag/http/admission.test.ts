/**
 * /rag admission over real sockets: beyond --max-generations a request is refused with 429 +
 * Retry-After before the first byte (no SSE headers, no sources event) and before any retrieval;
 * slots come back when a response completes and when a client goes away.
 */
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { buildHarness, type Harness } from "../testing/app-harness.js";
import { createGenerationAdmission } from "./admission.js";

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.app.close();
  harness = undefined;
});

async function serve(maxGenerations: number): Promise<{ h: Harness; url: string }> {
  const h = await buildHarness({ http: { maxGenerations } });
  harness = h;
  await h.app.listen({ host: "127.0.0.1", port: 0 });
  return { h, url: `http://127.0.0.1:${(h.app.server.address() as AddressInfo).port}` };
}

const ask = (url: string, stream: boolean, signal?: AbortSignal) =>
  fetch(`${url}/rag`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(stream ? { accept: "text/event-stream" } : {}) },
    body: JSON.stringify({ query: "How do RAG pipelines use vector databases?", stream }),
    ...(signal === undefined ? {} : { signal }),
  });

describe("generation admission", () => {
  it("counts slots and frees each once", () => {
    const admission = createGenerationAdmission(2);
    const first = admission.tryAcquire();
    const second = admission.tryAcquire();
    expect(admission.tryAcquire()).toBeUndefined();
    first?.();
    first?.();
    expect(admission.inFlight).toBe(1);
    expect(admission.tryAcquire()).toBeDefined();
    second?.();
  });

  it("refuses JSON and SSE requests beyond the bound with 429 before any work, then admits again", async () => {
    const { h, url } = await serve(2);
    h.llm.tokenDelayMs = 60_000; // generations that last until their client goes away
    const clients = [new AbortController(), new AbortController()];
    const running = await Promise.all(clients.map((client) => ask(url, true, client.signal)));
    for (const response of running) expect(response.status).toBe(200);
    const searchesBefore = h.store.searches.length;

    for (const stream of [true, false]) {
      const refused = await ask(url, stream);
      expect(refused.status).toBe(429);
      expect(refused.headers.get("retry-after")).toBe("1");
      expect(refused.headers.get("content-type")).toMatch(/^application\/json/);
      const body = (await refused.json()) as { error: { code: string; requestId: string } };
      expect(body.error).toMatchObject({ code: "overloaded", requestId: refused.headers.get("x-request-id") });
    }
    expect(h.store.searches.length).toBe(searchesBefore);
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toMatch(/llm_twin_rag_generations_in_flight 2/);

    // The clients go away: their slots come back.
    for (const client of clients) client.abort();
    h.llm.tokenDelayMs = 0;
    let admitted = await ask(url, false);
    for (let attempt = 0; attempt < 50 && admitted.status === 429; attempt += 1) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      admitted = await ask(url, false);
    }
    expect(admitted.status).toBe(200);
    const again = await Promise.all([ask(url, false), ask(url, true)]);
    expect(again.map((response) => response.status)).toEqual([200, 200]);
    await Promise.all(again.map((response) => response.text()));
  });
});
