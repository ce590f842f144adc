/**
 * Admission for generations, decided before the first byte and before any work: the RAG service
 * keeps its own bound on `/rag` requests in flight. Beyond it a request is refused at once with
 * 429 `overloaded` + `Retry-After` (streaming or not: no SSE headers, no `sources` event), before
 * its body is parsed and before any retrieval. The slot is held until the response is complete or
 * the client is gone.
 */
import type { FastifyReply, FastifyRequest, onRequestAsyncHookHandler, onResponseAsyncHookHandler } from "fastify";
import { Gauge } from "prom-client";
import { AppError } from "../../errors/index.js";
import type { RagMetrics } from "./rag-metrics.js";

export type GenerationAdmission = {
  readonly limit: number;
  readonly inFlight: number;
  /** A release function when a slot is free, else undefined. */
  tryAcquire(): (() => void) | undefined;
};

export function createGenerationAdmission(limit: number): GenerationAdmission {
  let inFlight = 0;
  return {
    limit,
    get inFlight() {
      return inFlight;
    },
    tryAcquire() {
      if (inFlight >= limit) return undefined;
      inFlight += 1;
      let released = false;
      return () => {
        if (released) return;
        released = true;
        inFlight -= 1;
      };
    },
  };
}

const RETRY_AFTER_SECONDS = "1";

/** Route hooks holding a slot for the request's whole life: onRequest takes it, the end frees it. */
export function admissionHooks(
  admission: GenerationAdmission,
  metrics?: RagMetrics,
): { onRequest: onRequestAsyncHookHandler; onResponse: onResponseAsyncHookHandler } {
  if (metrics !== undefined) {
    new Gauge({
      name: "llm_twin_rag_generations_in_flight",
      help: "/rag requests admitted and not finished (bounded by --max-generations)",
      registers: [metrics.http.registry],
      collect() {
        this.set(admission.inFlight);
      },
    });
  }
  const releases = new WeakMap<FastifyRequest, () => void>();
  return {
    async onRequest(request: FastifyRequest, reply: FastifyReply) {
      const release = admission.tryAcquire();
      if (release === undefined) {
        reply.header("retry-after", RETRY_AFTER_SECONDS);
        throw new AppError(
          "overloaded",
          `the service is answering ${admission.limit} requests already (--max-generations): retry later`,
          { details: { limit: admission.limit } },
        );
      }
      releases.set(request, release);
      // 'close' comes when the response is complete or the client is gone, whichever is first.
      reply.raw.once("close", release);
    },
    // inject() (tests) has no socket to close.
    async onResponse(request: FastifyRequest) {
      releases.get(request)?.();
    },
  };
}
