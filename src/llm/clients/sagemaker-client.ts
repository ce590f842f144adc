/**
 * LanguageModel over a SageMaker real-time endpoint that runs a TGI-compatible container (the
 * Hugging Face TGI image, or `llm-twin serve-llm`): InvokeEndpoint with `{inputs, parameters}`
 * (→ `[0].generated_text`), InvokeEndpointWithResponseStream for streaming (TGI's SSE lines inside
 * PayloadPart chunks, which may split lines anywhere). `{messages}` are sent in the OpenAI chat
 * shape, which TGI's /invocations route also accepts. Health → DescribeEndpoint is InService.
 */
import { DescribeEndpointCommand, SageMakerClient } from "@aws-sdk/client-sagemaker";
import {
  InvokeEndpointCommand,
  InvokeEndpointWithResponseStreamCommand,
  type ResponseStream,
  SageMakerRuntimeClient,
} from "@aws-sdk/client-sagemaker-runtime";
import { silenceAwsNodeVersionWarning } from "../../config/aws-sdk.js";
import { AppError, isAppError } from "../../errors/index.js";
import type { GenerateRequest, GenerateResult, LanguageModel, StreamPart } from "../port.js";
import { type CallOptions, createCallContext } from "./client-options.js";
import { openAiStreamParts, resultFromChatResponse, toChatBody } from "./openai-protocol.js";
import { retryingCalls } from "./retrying-calls.js";
import { parseSseStream } from "./sse-parser.js";
import { resultFromTgiResponse, tgiStreamParts, toTgiParameters } from "./tgi-protocol.js";
import { type CallSignal, errorFromStatus, isNetworkError } from "./upstream-errors.js";

export type SageMakerLanguageModelOptions = CallOptions & {
  endpointName: string;
  /** AWS region; the SDK's default chain (AWS_REGION, profile) when absent. */
  region?: string;
  /** Runtime client to use (tests inject a mocked one); built from `region` otherwise. */
  client?: SageMakerRuntimeClient;
  /** Control-plane client for health (DescribeEndpoint); built from `region` otherwise. */
  controlClient?: SageMakerClient;
  /** For endpoints with inference components. */
  inferenceComponentName?: string;
  /** Ask TGI for the prompt tokens (decoder_input_details) so usage.promptTokens is exact. Default false. */
  decoderInputDetails?: boolean;
};

const SERVICE = "SageMaker endpoint";
const encoder = new TextEncoder();
const decoder = new TextDecoder();

function parseJson(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/**
 * A small Error standing for an AWS SDK error (its name, message and HTTP status): SDK errors
 * carry the raw `$response` (sockets, buffers), which must not end up in logs through `cause`.
 */
function summarizeAwsError(error: unknown): Error {
  if (!(error instanceof Error)) return new Error(String(error));
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  const summary = new Error(`${error.name}: ${error.message}${status === undefined ? "" : ` (HTTP ${status})`}`);
  summary.name = error.name;
  return summary;
}

/** AWS SDK error → AppError. AWS messages can name the account, so they go to `cause` only. */
export function errorFromSageMaker(thrown: unknown, callSignal: CallSignal): AppError {
  const aborted = callSignal.abortError();
  if (aborted !== undefined) return aborted;
  if (isAppError(thrown)) return thrown;
  const error = thrown;
  const name = (error as { name?: unknown })?.name;
  const status = (error as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
  switch (name) {
    case "ModelError": {
      const modelError = error as { OriginalStatusCode?: number; OriginalMessage?: string };
      return errorFromStatus(
        { status: modelError.OriginalStatusCode ?? 502, body: parseJson(modelError.OriginalMessage) },
        "SageMaker model",
      );
    }
    case "ThrottlingException":
      return new AppError("overloaded", "The SageMaker endpoint is throttling requests", {
        cause: summarizeAwsError(error),
        retryable: true,
      });
    case "ModelNotReadyException":
    case "ServiceUnavailable":
      return new AppError("upstream_unavailable", `The SageMaker endpoint is not ready (${name})`, {
        cause: summarizeAwsError(error),
        retryable: true,
      });
    case "ValidationError":
      return new AppError("validation_error", "SageMaker rejected the request (ValidationError)", {
        cause: summarizeAwsError(error),
        retryable: false,
      });
    case "ModelStreamError": {
      const code = (error as { ErrorCode?: string }).ErrorCode;
      if (code === "ModelInvocationTimeExceeded") {
        return new AppError("timeout", "The SageMaker model did not finish within SageMaker's time limit", {
          cause: summarizeAwsError(error),
          retryable: false,
        });
      }
      return new AppError("upstream_error", `The SageMaker model stream failed${code ? ` (${code})` : ""}`, {
        cause: summarizeAwsError(error),
        retryable: false,
      });
    }
    case "InternalFailure":
    case "InternalDependencyException":
    case "InternalStreamFailure":
      return new AppError("upstream_error", `SageMaker failed (${name})`, {
        cause: summarizeAwsError(error),
        retryable: false,
      });
    case "CredentialsProviderError":
      return new AppError("configuration_error", "No AWS credentials found for the SageMaker client", {
        cause: summarizeAwsError(error),
        retryable: false,
      });
    default:
      break;
  }
  if (status === 429) return errorFromStatus({ status, body: undefined }, SERVICE);
  if (isNetworkError(error) || name === "TimeoutError") {
    return new AppError("upstream_unavailable", "The SageMaker runtime is unreachable", {
      cause: summarizeAwsError(error),
      retryable: true,
    });
  }
  if (typeof status === "number" && status >= 400) return errorFromStatus({ status, body: undefined }, SERVICE);
  return new AppError("upstream_error", "The SageMaker call failed", {
    cause: summarizeAwsError(error),
    retryable: false,
  });
}

/** PayloadPart bytes as a byte stream; stream error members become thrown SDK-shaped errors. */
async function* payloadBytes(body: AsyncIterable<ResponseStream>): AsyncGenerator<Uint8Array> {
  for await (const part of body) {
    if (part.PayloadPart?.Bytes !== undefined) {
      yield part.PayloadPart.Bytes;
    } else if (part.ModelStreamError !== undefined) {
      throw Object.assign(new Error(part.ModelStreamError.Message ?? "model stream error"), {
        name: "ModelStreamError",
        ErrorCode: part.ModelStreamError.ErrorCode,
      });
    } else if (part.InternalStreamFailure !== undefined) {
      throw Object.assign(new Error(part.InternalStreamFailure.Message ?? "internal stream failure"), {
        name: "InternalStreamFailure",
      });
    }
  }
}

export function sageMakerPayload(request: GenerateRequest, stream: boolean, decoderInputDetails: boolean): unknown {
  // An adapter is selected by the chat body's model (TGI multi-LoRA, serve-llm).
  if ("messages" in request) return toChatBody(request, request.adapter ?? "tgi", "tgi", stream);
  const parameters = toTgiParameters(request, { decoderInputDetails: decoderInputDetails && !stream });
  return stream ? { inputs: request.prompt, parameters, stream: true } : { inputs: request.prompt, parameters };
}

export function createSageMakerLanguageModel(options: SageMakerLanguageModelOptions): LanguageModel {
  if (!/^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/.test(options.endpointName)) {
    throw new AppError(
      "configuration_error",
      `Invalid SageMaker endpoint name: ${JSON.stringify(options.endpointName)}`,
    );
  }
  const clientConfig = options.region === undefined ? {} : { region: options.region };
  if (options.client === undefined || options.controlClient === undefined) silenceAwsNodeVersionWarning();
  // Our own retry loop decides what is retried; the SDK's retries are turned off to avoid stacking.
  const client = options.client ?? new SageMakerRuntimeClient({ ...clientConfig, maxAttempts: 1 });
  let controlClient = options.controlClient;
  const ownsClients = options.client === undefined;
  const context = createCallContext(options, SERVICE);
  const target = {
    EndpointName: options.endpointName,
    ContentType: "application/json",
    ...(options.inferenceComponentName === undefined ? {} : { InferenceComponentName: options.inferenceComponentName }),
  };

  async function generateOnce(request: GenerateRequest, signal: AbortSignal): Promise<GenerateResult> {
    const payload = sageMakerPayload(request, false, options.decoderInputDetails === true);
    const command = new InvokeEndpointCommand({
      ...target,
      Accept: "application/json",
      Body: encoder.encode(JSON.stringify(payload)),
    });
    const response = await client.send(command, { abortSignal: signal });
    const body = parseJson(response.Body === undefined ? undefined : decoder.decode(response.Body));
    return "messages" in request ? resultFromChatResponse(body, SERVICE) : resultFromTgiResponse(body, SERVICE);
  }

  async function* streamOnce(request: GenerateRequest, signal: AbortSignal): AsyncGenerator<StreamPart> {
    const payload = sageMakerPayload(request, true, false);
    const command = new InvokeEndpointWithResponseStreamCommand({
      ...target,
      Accept: "text/event-stream",
      Body: encoder.encode(JSON.stringify(payload)),
    });
    const response = await client.send(command, { abortSignal: signal });
    if (response.Body === undefined) {
      throw new AppError("upstream_error", "The SageMaker endpoint sent an empty stream", { retryable: false });
    }
    const events = parseSseStream(payloadBytes(response.Body));
    yield* "messages" in request ? openAiStreamParts(events, SERVICE) : tgiStreamParts(events, SERVICE);
  }

  return {
    id: options.id ?? `sagemaker:${options.endpointName}`,
    ...retryingCalls(context, { generateOnce, streamOnce, normalise: errorFromSageMaker }),
    health(healthOptions) {
      return context.health(healthOptions?.signal, async (signal) => {
        controlClient ??= new SageMakerClient({ ...clientConfig, maxAttempts: 1 });
        const described = await controlClient.send(
          new DescribeEndpointCommand({ EndpointName: options.endpointName }),
          {
            abortSignal: signal,
          },
        );
        return described.EndpointStatus === "InService";
      });
    },
    async [Symbol.asyncDispose]() {
      context.dispose();
      if (ownsClients) client.destroy();
      if (options.controlClient === undefined) controlClient?.destroy();
    },
  };
}
