/**
 * Client connection helpers: an AbortSignal that fires when the client goes away before the
 * response is complete (streaming or not), and a minimal SSE writer over the raw response.
 */
import { once } from "node:events";
import type { FastifyReply, FastifyRequest } from "fastify";
import { AppError } from "../errors/index.js";

/** Aborts when the client disconnects before the response has been fully written. */
export function clientDisconnectSignal(request: FastifyRequest, reply: FastifyReply): AbortSignal {
  const controller = new AbortController();
  const onClose = (): void => {
    if (!reply.raw.writableEnded) {
      controller.abort(new AppError("aborted", "The client disconnected"));
    }
  };
  reply.raw.once("close", onClose);
  request.raw.once("aborted", onClose);
  return controller.signal;
}

export type SseWriter = {
  /** Writes one `data:` event; waits when the socket buffer is full. */
  send(data: string): Promise<void>;
  end(): void;
  readonly closed: boolean;
};

/**
 * Takes over the response for Server-Sent Events. `dataPrefix` is "data:" for TGI (no space, as
 * TGI frames it) and "data: " for OpenAI.
 */
export function startSse(reply: FastifyReply, dataPrefix: "data:" | "data: "): SseWriter {
  reply.hijack();
  const raw = reply.raw;
  raw.writeHead(200, {
    "content-type": "text/event-stream",
    "cache-control": "no-cache",
    connection: "keep-alive",
    "x-accel-buffering": "no",
  });
  raw.flushHeaders();
  return {
    get closed() {
      return raw.destroyed || raw.writableEnded;
    },
    async send(data) {
      if (raw.destroyed || raw.writableEnded) return;
      if (!raw.write(`${dataPrefix}${data}\n\n`)) {
        await Promise.race([once(raw, "drain"), once(raw, "close")]);
      }
    },
    end() {
      if (!raw.writableEnded) raw.end();
    },
  };
}
