/**
 * The CLI as a process: /health 503 while loading then 200, and graceful SIGTERM with a request in
 * flight (new requests 503, the in-flight one completes, exit code 0).
 */
import { afterAll, describe, expect, it } from "vitest";
import { tinyModelPath } from "../../src/gguf/index.js";
import { type CliProcess, killLeftOver, spawnServeLlm, waitForLoggedUrl } from "../../src/testing/cli-process.js";
import { waitFor } from "./helpers.js";

let cli: CliProcess | undefined;

afterAll(() => killLeftOver([cli]));

describe("llm-twin serve-llm process", () => {
  it("answers 503 while loading, serves, and on SIGTERM finishes in-flight work and exits 0", async () => {
    const model = await tinyModelPath("chat");
    // Without UV_THREADPOOL_SIZE: the entry point must choose the pool size itself.
    cli = spawnServeLlm({ model, args: ["--grace-period", "29"], env: { UV_THREADPOOL_SIZE: undefined } });
    const running = cli;
    const output = (): string => running.output();
    const baseUrl = await waitForLoggedUrl(running);

    const statuses = new Set<number>();
    await waitFor(
      async () => {
        const status = (await fetch(`${baseUrl}/health`)).status;
        statuses.add(status);
        return status === 200;
      },
      "the model to load",
      180_000,
    );
    // The first probe normally lands while the model loads; a 503 is the only other answer allowed.
    for (const status of statuses) expect([200, 503]).toContain(status);
    // The entry point gave the serving process a one-thread libuv pool (see bin/llm-twin.js), and
    // the start-up log says which llama.cpp binary runs.
    const info = (await (await fetch(`${baseUrl}/info`)).json()) as Record<string, unknown>;
    expect(info).toMatchObject({ uv_threadpool_size: 1, threads: 1 });
    expect(["local", "prebuilt"]).toContain(info.llama_cpp_build);
    // Logged right after the model is marked ready, so it may reach the pipe after /health's 200.
    await waitFor(
      async () => /llama\.cpp (built for this machine|portable prebuilt binary)/.test(output()),
      "the runtime log line",
    );
    await waitFor(async () => /"msg":"engine: (native|node-llama-cpp)/.test(output()), "the engine log line");
    expect(info.engine).toBe(/"msg":"engine: native/.test(output()) ? "native" : "node-llama-cpp");

    const inFlight = fetch(`${baseUrl}/generate_stream`, {
      method: "POST",
      body: JSON.stringify({
        inputs: "in flight",
        parameters: { max_new_tokens: 600, ignore_eos: true, details: true },
      }),
    });
    const response = await inFlight;
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    await reader.read();

    running.child.kill("SIGTERM");
    await waitFor(async () => (await fetch(`${baseUrl}/health`)).status === 503, "admission to stop");
    const refused = await fetch(`${baseUrl}/generate`, { method: "POST", body: JSON.stringify({ inputs: "late" }) });
    expect(refused.status).toBe(503);
    expect(await refused.json()).toMatchObject({ error_type: "unhealthy" });

    let rest = "";
    for (;;) {
      const chunk = await reader.read();
      if (chunk.done) break;
      rest += new TextDecoder().decode(chunk.value);
    }
    const events = rest.split("\n\n").filter((event) => event.trim() !== "");
    const last = JSON.parse((events.at(-1) ?? "").slice("data:".length)) as {
      generated_text: unknown;
      details: unknown;
    };
    // The in-flight request completed (an error event here would mean it was cut off).
    expect(last).toMatchObject({ generated_text: expect.any(String) });

    const code = await running.exited;
    expect(code).toBe(0);
    expect(output()).toContain("stopped");
  }, 240_000);
});
