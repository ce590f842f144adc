/**
 * The SageMaker adapter with the REAL AWS SDK v3 runtime client (request signing, serialisation,
 * error deserialisation) against the REAL serve-llm container contract (POST /invocations), through
 * a loopback stand-in for the SageMaker runtime front end: it forwards
 * `POST /endpoints/<name>/invocations` to the container's `/invocations` and, like SageMaker,
 * reports a container error as a 424 ModelError carrying the original status and message.
 * InvokeEndpointWithResponseStream goes to `POST /endpoints/<name>/invocations-response-stream`:
 * the stand-in re-frames the container's SSE bytes as AWS event-stream PayloadPart messages of a
 * few bytes each, so lines arrive split anywhere, as they can from SageMaker. (AWS itself is out
 * of reach.)
 */
import { createServer, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { crc32 } from "node:zlib";
import { SageMakerRuntimeClient } from "@aws-sdk/client-sagemaker-runtime";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tinyModelPath } from "../../src/gguf/index.js";
import { createSageMakerLanguageModel } from "../../src/llm/clients/index.js";
import { parseLlmServerConfig } from "../../src/llm-server/config.js";
import { type RunningLlmServer, startLlmServer } from "../../src/llm-server/server.js";

/** One AWS event-stream message: prelude (lengths + CRC), string headers, payload, message CRC. */
function eventStreamMessage(headers: Record<string, string>, payload: Uint8Array): Buffer {
  const headerBytes = Buffer.concat(
    Object.entries(headers).map(([name, value]) => {
      const nameBytes = Buffer.from(name, "utf8");
      const valueBytes = Buffer.from(value, "utf8");
      const header = Buffer.alloc(1 + nameBytes.length + 1 + 2 + valueBytes.length);
      let offset = header.writeUInt8(nameBytes.length, 0);
      offset += nameBytes.copy(header, offset);
      offset = header.writeUInt8(7, offset); // 7 = string
      offset = header.writeUInt16BE(valueBytes.length, offset);
      valueBytes.copy(header, offset);
      return header;
    }),
  );
  const total = 12 + headerBytes.length + payload.length + 4;
  const message = Buffer.alloc(total);
  message.writeUInt32BE(total, 0);
  message.writeUInt32BE(headerBytes.length, 4);
  message.writeUInt32BE(crc32(message.subarray(0, 8)), 8);
  headerBytes.copy(message, 12);
  Buffer.from(payload).copy(message, 12 + headerBytes.length);
  message.writeUInt32BE(crc32(message.subarray(0, total - 4)), total - 4);
  return message;
}

async function relayAsPayloadParts(upstream: Response, response: ServerResponse): Promise<void> {
  response.writeHead(200, {
    "content-type": "application/vnd.amazon.eventstream",
    "x-amzn-sagemaker-content-type": "text/event-stream",
  });
  for await (const chunk of upstream.body as unknown as AsyncIterable<Uint8Array>) {
    for (let offset = 0; offset < chunk.length; offset += 7) {
      response.write(
        eventStreamMessage(
          { ":event-type": "PayloadPart", ":message-type": "event", ":content-type": "application/octet-stream" },
          chunk.subarray(offset, offset + 7),
        ),
      );
    }
  }
  response.end();
}

let service: RunningLlmServer;
let frontEnd: Server;
let frontEndUrl: string;
const seenPaths: string[] = [];

beforeAll(async () => {
  service = await startLlmServer(
    parseLlmServerConfig({
      model: await tinyModelPath("chat"),
      host: "127.0.0.1",
      port: 0,
      parallel: 1,
      threads: 1,
      maxInputTokens: 128,
      maxTotalTokens: 256,
      logLevel: "silent",
    }),
  );
  await service.ready;
  frontEnd = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", async () => {
      seenPaths.push(`${request.method} ${request.url}`);
      const upstream = await fetch(`${service.url}/invocations`, {
        method: "POST",
        headers: { "content-type": request.headers["content-type"] ?? "application/json" },
        body: Buffer.concat(chunks),
      });
      if (upstream.ok && request.url?.endsWith("/invocations-response-stream")) {
        await relayAsPayloadParts(upstream, response);
        return;
      }
      const text = await upstream.text();
      if (upstream.ok) {
        response.writeHead(200, {
          "content-type": "application/json",
          "x-amzn-invoked-production-variant": "AllTraffic",
        });
        response.end(text);
        return;
      }
      response.writeHead(424, {
        "content-type": "application/json",
        "x-amzn-errortype": "ModelError:http://internal.amazon.com/coral/com.amazonaws.sagemaker/",
      });
      response.end(
        JSON.stringify({
          ErrorCode: "CLIENT_ERROR_FROM_MODEL",
          Message: `Received client error (${upstream.status}) from primary with message "${text}".`,
          OriginalMessage: text,
          OriginalStatusCode: upstream.status,
        }),
      );
    });
  });
  await new Promise<void>((resolve) => frontEnd.listen(0, "127.0.0.1", resolve));
  frontEndUrl = `http://127.0.0.1:${(frontEnd.address() as AddressInfo).port}`;
});

afterAll(async () => {
  frontEnd?.closeAllConnections();
  frontEnd?.close();
  await service?.shutdown("tests done");
});

function model() {
  const client = new SageMakerRuntimeClient({
    region: "eu-central-1",
    endpoint: frontEndUrl,
    credentials: { accessKeyId: "test", secretAccessKey: "test" },
    maxAttempts: 1,
  });
  return createSageMakerLanguageModel({ endpointName: "twin", client, retries: 0, timeoutMs: 30_000 });
}

describe("SageMaker adapter → real SDK → serve-llm /invocations", () => {
  it("InvokeEndpoint with the TGI payload reads [0].generated_text and the token counts", async () => {
    const result = await model().generate({ prompt: "Hello twin", maxNewTokens: 6, temperature: 0 });
    expect(seenPaths.at(-1)).toBe("POST /endpoints/twin/invocations");
    expect(result.usage.promptTokens).toBeGreaterThan(0);
    expect(result.usage.completionTokens).toBeGreaterThan(0);
    expect(result.usage.completionTokens).toBeLessThanOrEqual(6);
  });

  it("InvokeEndpointWithResponseStream: TGI SSE split across many PayloadParts becomes tokens then done", async () => {
    const parts = [];
    for await (const part of model().stream({ prompt: "Hello twin", maxNewTokens: 8, temperature: 0 }))
      parts.push(part);
    expect(seenPaths.at(-1)).toBe("POST /endpoints/twin/invocations-response-stream");
    const done = parts.at(-1);
    expect(done?.type).toBe("done");
    expect(parts.filter((part) => part.type === "done")).toHaveLength(1);
    if (done?.type === "done") {
      expect(done.usage.completionTokens).toBeGreaterThan(0);
      expect(done.usage.completionTokens).toBeLessThanOrEqual(8);
    }
    const streamed = parts.map((part) => (part.type === "token" ? part.text : "")).join("");
    const generated = await model().generate({ prompt: "Hello twin", maxNewTokens: 8, temperature: 0 });
    expect(streamed).toBe(generated.text);
  });

  it("a container 422 arrives as SageMaker's ModelError and becomes validation_error with the limit's message", async () => {
    const error = await model()
      .generate({ prompt: "word ".repeat(300), maxNewTokens: 4 })
      .catch((thrown: unknown) => thrown);
    expect(error).toMatchObject({ code: "validation_error", retryable: false });
    expect((error as Error).message).toMatch(/\d+/);
  });
});
