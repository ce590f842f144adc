/**
 * The engine's side of native streaming (docs/llm-service.md, "Native streaming"): which requests
 * the backend may stream to the client's socket itself, and what the engine does with such a job
 * once it ended: per-token metrics observed in bulk with the values the token-by-token path gives
 * them, and the error of a job whose socket writer failed.
 */
import { AppError } from "../../errors/index.js";
import type { DecodeBackend, SocketStreamTarget, StreamedOutcome } from "./decode-port.js";
import type { EngineObserver, EngineRequest, LlamaCppEngineOptions } from "./engine-types.js";

/** Most bytes of a natively streamed response waiting for its client (--native-stream-buffer). */
export const DEFAULT_NATIVE_STREAM_BUFFER = 1024 * 1024;

/** The buffer limit of natively streamed responses; 0 when off or the backend cannot stream. */
export function nativeStreamBufferOf(backend: DecodeBackend, options: LlamaCppEngineOptions): number {
  if (backend.streamsToSockets !== true || options.nativeStreaming === false) return 0;
  return options.nativeStreamBuffer ?? DEFAULT_NATIVE_STREAM_BUFFER;
}

/**
 * Where the backend may write this request's text, asked of the response (EngineRequest.socketStream)
 * when nothing per token but the text is wanted: no logprobs, alternatives, pieces or prompt logprobs.
 */
export function socketStreamTarget(request: EngineRequest, maxBuffered: number): SocketStreamTarget | undefined {
  if (!socketStreamEligible(request.parameters)) return undefined;
  const handle = request.socketStream?.();
  return handle === undefined ? undefined : { ...handle, maxBuffered };
}

/** Nothing per token but the text: no logprobs, alternatives, pieces or prompt logprobs. */
function socketStreamEligible(parameters: EngineRequest["parameters"]): boolean {
  return (
    parameters.logprobs !== true &&
    (parameters.topLogprobs ?? 0) === 0 &&
    parameters.tokenPieces !== true &&
    parameters.promptLogprobs !== true
  );
}

type StreamedTimes = { firstTokenAt: number; lastTokenAt: number };

/**
 * Observes the first-token and inter-token times of a streamed job (TGI's and the project's
 * histograms), `now` being when the outcome arrived. Each token is also "delivered" (TGI's batch
 * decode and filter histograms keep their counts) with 0 ms of JavaScript work: there was none.
 */
function observeStreamed(
  outcome: StreamedOutcome,
  now: number,
  context: { observer: EngineObserver; queuedAt: number; admittedAt: number; activeGenerations: number },
): StreamedTimes {
  const { observer, queuedAt, admittedAt, activeGenerations } = context;
  let firstTokenAt = now;
  let lastTokenAt = now;
  for (let index = 0; index < outcome.ages.length; index += 1) {
    const at = now - (outcome.ages[index] ?? 0);
    if (index === 0) {
      firstTokenAt = at;
      observer.onFirstToken?.(at - queuedAt, activeGenerations, at - admittedAt);
    } else observer.onInterToken?.(at - lastTokenAt, activeGenerations);
    observer.onTokenDelivered?.(index === 0, 0, 0);
    lastTokenAt = at;
  }
  observer.onNativeStream?.();
  return { firstTokenAt, lastTokenAt };
}

/** The error of a job whose socket writer gave up, else undefined. */
function streamedFailure(outcome: StreamedOutcome, maxBuffered: number): AppError | undefined {
  switch (outcome.writer) {
    case "open":
      return undefined;
    case "client_gone":
      return new AppError("aborted", "The client disconnected");
    case "buffer_full":
      return new AppError(
        "stream_buffer_full",
        `The client stopped reading: more than ${maxBuffered} bytes of the stream waited for it ` +
          "(serve-llm --native-stream-buffer / LLM_TWIN_NATIVE_STREAM_BUFFER)",
        { details: { limit: maxBuffered } },
      );
    default:
      return new AppError("internal_error", "Writing the stream to the client failed");
  }
}

/**
 * A streamed job as it ended: its metrics observed (observeStreamed), then the writer's failure
 * thrown unless the request was cancelled anyway (its own error is the one to report).
 */
export function settleStreamed(
  outcome: StreamedOutcome,
  maxBuffered: number,
  context: Parameters<typeof observeStreamed>[2] & { aborted: boolean },
): StreamedTimes {
  const times = observeStreamed(outcome, performance.now(), context);
  const failure = streamedFailure(outcome, maxBuffered);
  if (failure !== undefined && !context.aborted) throw failure;
  return times;
}
