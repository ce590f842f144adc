// AWS is out of reach from these machines: these tests check the request and response mapping of
// the SageMaker adapter against a mocked AWS SDK client (aws-sdk-client-mock), not a real endpoint.
import { DescribeEndpointCommand, SageMakerClient } from "@aws-sdk/client-sagemaker";
import {
  InvokeEndpointCommand,
  InvokeEndpointWithResponseStreamCommand,
  ModelError,
  type ResponseStream,
  SageMakerRuntimeClient,
  ServiceUnavailable,
  ValidationError,
} from "@aws-sdk/client-sagemaker-runtime";
import { mockClient } from "aws-sdk-client-mock";
import { describe, expect, it } from "vitest";
import { createSageMakerLanguageModel } from "../../src/llm/clients/index.js";
import { tgiTokenEvents } from "./fake-server.js";
import { collect } from "./test-support.js";

function setup(options: { retries?: number } = {}) {
  const client = new SageMakerRuntimeClient({
    region: "eu-central-1",
    credentials: { accessKeyId: "a", secretAccessKey: "b" },
  });
  const controlClient = new SageMakerClient({
    region: "eu-central-1",
    credentials: { accessKeyId: "a", secretAccessKey: "b" },
  });
  const runtime = mockClient(client);
  const control = mockClient(controlClient);
  const model = createSageMakerLanguageModel({
    endpointName: "twin",
    client,
    controlClient,
    retries: options.retries ?? 0,
    retryBaseDelayMs: 1,
  });
  return { runtime, control, model };
}

// The SDK wraps bodies in a Uint8Array subclass; the adapter only decodes bytes.
const body = (value: unknown) => new TextEncoder().encode(JSON.stringify(value)) as never;

function payloadStream(text: string, pieceSize: number, extra: ResponseStream[] = []): AsyncIterable<ResponseStream> {
  const bytes = new TextEncoder().encode(text);
  return (async function* () {
    for (let offset = 0; offset < bytes.length; offset += pieceSize) {
      yield { PayloadPart: { Bytes: bytes.subarray(offset, offset + pieceSize) } };
    }
    for (const part of extra) yield part;
  })();
}

describe("SageMaker adapter (mocked AWS SDK)", () => {
  it("InvokeEndpoint sends the TGI payload and reads [0].generated_text", async () => {
    const { runtime, model } = setup();
    runtime.on(InvokeEndpointCommand).resolves({
      Body: body([
        {
          generated_text: "Hello",
          details: { finish_reason: "stop_sequence", generated_tokens: 3, seed: null, input_length: 12 },
        },
      ]),
      ContentType: "application/json",
    });
    const result = await model.generate({
      prompt: "Write",
      maxNewTokens: 150,
      topP: 0.9,
      temperature: 0.01,
      repetitionPenalty: 1.1,
    });
    expect(result).toEqual({ text: "Hello", finishReason: "stop", usage: { promptTokens: 12, completionTokens: 3 } });
    const input = runtime.commandCalls(InvokeEndpointCommand)[0]?.args[0].input;
    expect(input?.EndpointName).toBe("twin");
    expect(input?.ContentType).toBe("application/json");
    expect(JSON.parse(new TextDecoder().decode(input?.Body as Uint8Array))).toEqual({
      inputs: "Write",
      parameters: {
        max_new_tokens: 150,
        top_p: 0.9,
        temperature: 0.01,
        do_sample: true,
        repetition_penalty: 1.1,
        return_full_text: false,
        details: true,
      },
    });
  });

  it("sends messages in the OpenAI chat shape that TGI's /invocations accepts", async () => {
    const { runtime, model } = setup();
    runtime.on(InvokeEndpointCommand).resolves({
      Body: body({
        choices: [{ message: { role: "assistant", content: "Hi" }, finish_reason: "stop" }],
        usage: { prompt_tokens: 4, completion_tokens: 1 },
      }),
    });
    expect((await model.generate({ messages: [{ role: "user", content: "Hey" }] })).text).toBe("Hi");
    const sent = JSON.parse(
      new TextDecoder().decode(runtime.commandCalls(InvokeEndpointCommand)[0]?.args[0].input.Body as Uint8Array),
    );
    expect(sent).toEqual({ model: "tgi", messages: [{ role: "user", content: "Hey" }], stream: false });
  });

  it("InvokeEndpointWithResponseStream: parses TGI SSE lines split across PayloadParts at any byte", async () => {
    const { runtime, model } = setup();
    const sse = tgiTokenEvents(["Ta", "lk", "é"], "eos_token", 5)
      .map((event) => `data:${JSON.stringify(event)}\n\n`)
      .join("");
    runtime.on(InvokeEndpointWithResponseStreamCommand).resolves({ Body: payloadStream(sse, 3) });
    expect(await collect(model.stream({ prompt: "x", maxNewTokens: 3 }))).toEqual([
      { type: "token", text: "Ta", tokenId: 300 },
      { type: "token", text: "lk", tokenId: 301 },
      { type: "token", text: "é", tokenId: 302 },
      { type: "done", finishReason: "eos", usage: { promptTokens: 5, completionTokens: 3 } },
    ]);
    const input = runtime.commandCalls(InvokeEndpointWithResponseStreamCommand)[0]?.args[0].input;
    expect(JSON.parse(new TextDecoder().decode(input?.Body as Uint8Array))).toMatchObject({
      inputs: "x",
      stream: true,
    });
  });

  it("a ModelStreamError inside the stream becomes a typed error", async () => {
    const { runtime, model } = setup();
    const first = `data:${JSON.stringify(tgiTokenEvents(["a", "b"])[0])}\n\n`;
    runtime.on(InvokeEndpointWithResponseStreamCommand).resolves({
      Body: payloadStream(first, 1000, [
        { ModelStreamError: { Message: "broken", ErrorCode: "StreamBroken" } } as ResponseStream,
      ]),
    });
    await expect(collect(model.stream({ prompt: "x" }))).rejects.toMatchObject({ code: "upstream_error" });
  });

  it("maps SDK errors: ModelError 422 → validation_error, ServiceUnavailable → upstream_unavailable (retried)", async () => {
    const { runtime, model } = setup({ retries: 1 });
    runtime.on(InvokeEndpointCommand).rejectsOnce(
      new ModelError({
        message: "Received client error (422)",
        $metadata: {},
        OriginalStatusCode: 422,
        OriginalMessage: JSON.stringify({
          error: "Input validation error: max_new_tokens must be <= 512",
          error_type: "validation",
        }),
      }),
    );
    const validation = await model.generate({ prompt: "x" }).catch((error: unknown) => error);
    expect(validation).toMatchObject({ code: "validation_error", retryable: false });
    expect(runtime.commandCalls(InvokeEndpointCommand)).toHaveLength(1);

    runtime.reset();
    runtime
      .on(InvokeEndpointCommand)
      .rejectsOnce(new ServiceUnavailable({ message: "down", $metadata: {} }))
      .resolves({ Body: body([{ generated_text: "ok" }]) });
    expect((await model.generate({ prompt: "x" })).text).toBe("ok");
    expect(runtime.commandCalls(InvokeEndpointCommand)).toHaveLength(2);
  });

  it("never puts AWS's message (which can name the account) in the error message", async () => {
    const { runtime, model } = setup();
    runtime
      .on(InvokeEndpointCommand)
      .rejects(new ValidationError({ message: "Endpoint twin of account 123456789012 not found.", $metadata: {} }));
    const error = await model.generate({ prompt: "x" }).catch((thrown: Error) => thrown);
    expect(error).toMatchObject({ code: "validation_error" });
    expect((error as Error).message).not.toContain("123456789012");
    // The cause is a plain summary, not the SDK error with its raw response.
    expect(Object.keys((error as Error).cause as object)).not.toContain("$response");
    expect(String((error as Error).cause)).toContain("ValidationError");
  });

  it("health is DescribeEndpoint InService", async () => {
    const { control, model } = setup();
    control
      .on(DescribeEndpointCommand)
      .resolvesOnce({ EndpointStatus: "Updating" } as never)
      .resolves({ EndpointStatus: "InService" } as never);
    expect(await model.health()).toBe(false);
    expect(await model.health()).toBe(true);
    expect(control.commandCalls(DescribeEndpointCommand)[0]?.args[0].input).toEqual({ EndpointName: "twin" });
  });
});
