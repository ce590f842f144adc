/**
 * Small loopback HTTP servers that reproduce the wire formats of TGI and OpenAI-compatible
 * servers, so the clients can be tested byte for byte (status codes, SSE framing, disconnects).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export type RecordedRequest = { method: string; path: string; headers: IncomingMessage["headers"]; body: unknown };

export type FakeHandler = (
  request: RecordedRequest,
  response: ServerResponse,
  raw: IncomingMessage,
) => void | Promise<void>;

export type FakeServer = {
  url: string;
  port: number;
  requests: RecordedRequest[];
  /** Number of requests whose client went away before the response ended. */
  clientDisconnects: () => number;
  close(): Promise<void>;
  server: Server;
};

export async function startFakeServer(handler: FakeHandler, port = 0): Promise<FakeServer> {
  const requests: RecordedRequest[] = [];
  let disconnects = 0;
  const server = createServer((raw, response) => {
    const chunks: Buffer[] = [];
    raw.on("data", (chunk: Buffer) => chunks.push(chunk));
    raw.on("end", () => {
      const text = Buffer.concat(chunks).toString("utf8");
      let body: unknown = text;
      try {
        body = text === "" ? undefined : JSON.parse(text);
      } catch {
        // keep the text
      }
      const request: RecordedRequest = {
        method: raw.method ?? "GET",
        path: raw.url ?? "/",
        headers: raw.headers,
        body,
      };
      requests.push(request);
      response.on("close", () => {
        if (!response.writableFinished) disconnects++;
      });
      void Promise.resolve(handler(request, response, raw)).catch((error: unknown) => {
        response.destroy(error instanceof Error ? error : new Error(String(error)));
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  const address = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${address.port}`,
    port: address.port,
    requests,
    clientDisconnects: () => disconnects,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export function sendJson(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(text),
    ...headers,
  });
  response.end(text);
}

export const delay = (milliseconds: number) => new Promise((resolve) => setTimeout(resolve, milliseconds));

/**
 * Write SSE `data:` events. `splitEvery` cuts the byte stream into pieces of that many bytes,
 * written separately (so events and lines arrive split); `eventDelayMs` waits between events.
 */
export async function sendSse(
  response: ServerResponse,
  payloads: readonly (unknown | string)[],
  options: { splitEvery?: number; eventDelayMs?: number; lineEnding?: string; end?: boolean } = {},
): Promise<void> {
  response.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
  response.flushHeaders();
  const lineEnding = options.lineEnding ?? "\n";
  for (const payload of payloads) {
    if (response.destroyed) return;
    const data = typeof payload === "string" ? payload : JSON.stringify(payload);
    const bytes = Buffer.from(`data:${data}${lineEnding}${lineEnding}`, "utf8");
    const step = options.splitEvery ?? bytes.length;
    for (let offset = 0; offset < bytes.length; offset += step) {
      response.write(bytes.subarray(offset, offset + step));
      if (options.splitEvery !== undefined) await delay(1);
    }
    if (options.eventDelayMs !== undefined) await delay(options.eventDelayMs);
  }
  if (options.end !== false) response.end();
}

/** TGI `/generate_stream` events for these token texts (the last one carries details). */
export function tgiTokenEvents(texts: readonly string[], finishReason = "length", inputLength = 7): unknown[] {
  return texts.map((text, index) => {
    const last = index === texts.length - 1;
    return {
      index: index + 1,
      token: { id: 300 + index, text, logprob: -0.5, special: false },
      generated_text: last ? texts.join("") : null,
      details: last
        ? { finish_reason: finishReason, generated_tokens: texts.length, seed: null, input_length: inputLength }
        : null,
      top_tokens: null,
    };
  });
}

/** OpenAI chat.completion.chunk payloads for these texts, then a usage chunk, then [DONE]. */
export function openAiChatChunks(
  texts: readonly string[],
  finishReason = "stop",
  promptTokens = 5,
): (unknown | string)[] {
  const base = { id: "chatcmpl-1", object: "chat.completion.chunk", created: 1, model: "fake" };
  return [
    { ...base, choices: [{ index: 0, delta: { role: "assistant", content: "" }, finish_reason: null }] },
    ...texts.map((text) => ({ ...base, choices: [{ index: 0, delta: { content: text }, finish_reason: null }] })),
    { ...base, choices: [{ index: 0, delta: {}, finish_reason: finishReason }] },
    {
      ...base,
      choices: [],
      usage: {
        prompt_tokens: promptTokens,
        completion_tokens: texts.length,
        total_tokens: promptTokens + texts.length,
      },
    },
    "[DONE]",
  ];
}
