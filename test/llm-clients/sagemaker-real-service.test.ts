/**
 * The SageMaker adapter with the REAL AWS SDK v3 runtime client (request signing, serialisation,
 * error deserialisation) against the REAL serve-llm container contract (POST /invocations), through
 * a loopback stand-in for the SageMaker runtime front end: it forwards
 * `POST /endpoints/<name>/invocations` to the container's `/invocations` and, like SageMaker,
 * reports a container error as a 424 ModelError carrying the original status and message.
 * (AWS itself is out of reach; InvokeEndpointWithResponseStream needs AWS's binary event-stream
 * framing and is covered by the mocked-client tests.)
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { SageMakerRuntimeClient } from "@aws-sdk/client-sagemaker-runtime";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSageMakerLanguageModel } from "../../src/llm/clients/index.js";
import { parseLlmServerConfig } from "../../src/llm-server/config.js";
import { type RunningLlmServer, startLlmServer } from "../../src/llm-server/server.js";
import { tinyModelPath } from "../../src/testing/gguf/index.js";

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
      const text = await upstream.text();
      if (upstream.ok) {
        response.writeHead(200, { "content-type": "application/json", "x-amzn-invoked-production-variant": "AllTraffic" });
        response.end(text);
        return;
      }
      response.writeHead(424, { "content-type": "application/json", "x-amzn-errortype": "ModelError:http://internal.amazon.com/coral/com.amazonaws.sagemaker/" });
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

  it("a container 422 arrives as SageMaker's ModelError and becomes validation_error with the limit's message", async () => {
    const error = await model()
      .generate({ prompt: "word ".repeat(300), maxNewTokens: 4 })
      .catch((thrown: unknown) => thrown);
    expect(error).toMatchObject({ code: "validation_error", retryable: false });
    expect((error as Error).message).toMatch(/\d+/);
  });
});
