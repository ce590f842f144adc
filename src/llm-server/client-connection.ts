/**
 * Client connection helpers: an AbortSignal that fires when the client goes away before the
 * response is complete (streaming or not), and a minimal SSE writer over the raw response.
 */
import type { OutgoingHttpHeaders, ServerResponse } from "node:http";
import { Socket } from "node:net";
import { TLSSocket } from "node:tls";
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
  /** Writes one `data:` event; the promise (when there is one) waits until a full socket buffer drains. */
  send(data: string): Promise<void> | undefined;
  /**
   * The events sent from now until the next tick (the end of a response: finish, usage, `[DONE]`)
   * leave in one write with the end of the response. Not per token: corking costs more than it saves there.
   */
  batch(): void;
  end(): void;
  /**
   * Native streaming: the socket's descriptor and framing, when the response owns a plain TCP
   * socket with nothing waiting in its write buffer (the head is written first). Until the
   * backend hands back, events must go through `writeRest` and send() only after it.
   */
  handOver(): { fd: number; chunked: boolean; writeRest(bytes: Buffer): void } | undefined;
  readonly closed: boolean;
};

const streamFailures = new WeakMap<ServerResponse, number>();

/**
 * A stream that ended with an error event after its 200 went out: request metrics count it with
 * that error's status (llm_twin_requests_total, tgi_request_failure), as TGI counts such a stream.
 */
export function markStreamFailed(reply: FastifyReply, status: number): void {
  streamFailures.set(reply.raw, status);
}

/** The status a finished response counts with in the metrics (see markStreamFailed). */
export function responseStatus(response: ServerResponse): number {
  return streamFailures.get(response) ?? response.statusCode;
}

/**
 * Takes over the response for Server-Sent Events. `dataPrefix` is "data:" for TGI (no space, as
 * TGI frames it) and "data: " for OpenAI.
 *
 * Each event is one write on the socket: when the response owns its connection (it is not behind
 * a pipelined response still being written), the event is framed here as Node frames a
 * `response.write` (a chunk `<size in hex>\r\n…\r\n` under chunked encoding) and written to the
 * socket as one string, instead of going through the response's corked four-part write. The
 * bytes on the wire are the same.
 *
 * The status line and headers leave with the first event (or with end()), in the same write, as
 * llama-server sends its headers with the first token: no write and no wake-up of the client
 * while the prompt is being decoded.
 */
export function startSse(reply: FastifyReply, dataPrefix: "data:" | "data: "): SseWriter {
  // Headers set on the reply so far (x-request-id...): hijacking leaves them to us.
  const headers: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(reply.getHeaders())) if (value !== undefined) headers[name] = value;
  reply.hijack();
  const raw = reply.raw;
  raw.writeHead(200, {
    ...headers,
    "content-type": "text/event-stream",
    "cache-control": "no-cache",
    connection: "keep-alive",
    "x-accel-buffering": "no",
  });
  // The response owns its socket (it is not behind a pipelined response still being written).
  const socket = raw.socket;
  const direct =
    socket instanceof Socket && socket.writable && (socket as { _httpMessage?: unknown })._httpMessage === raw;
  const chunked = raw.chunkedEncoding;
  let headSent = false;
  let corked = false;
  const uncork = (): void => {
    corked = false;
    // end() uncorks fully; uncorking an uncorked socket does nothing.
    socket?.uncork();
  };
  // Until the buffer drains or the response closes. Not events.once: it rejects on the socket's
  // 'error' (a client gone), which closes the response anyway.
  const waitForRoom = (emitter: NodeJS.EventEmitter): Promise<void> =>
    new Promise((resolve) => {
      const done = (): void => {
        emitter.off("drain", done);
        raw.off("close", done);
        resolve();
      };
      emitter.once("drain", done);
      raw.once("close", done);
    });
  return {
    get closed() {
      return raw.destroyed || raw.writableEnded;
    },
    send(data) {
      if (raw.destroyed || raw.writableEnded) return undefined;
      const event = `${dataPrefix}${data}\n\n`;
      if (direct && socket !== null) {
        if (!socket.writable) return undefined;
        const framed = chunked ? `${Buffer.byteLength(event).toString(16)}\r\n${event}\r\n` : event;
        let written: boolean;
        if (headSent) written = socket.write(framed);
        else {
          // The head and the first event in one write.
          headSent = true;
          socket.cork();
          raw.flushHeaders();
          written = socket.write(framed);
          socket.uncork();
        }
        return written ? undefined : waitForRoom(socket);
      }
      return raw.write(event) ? undefined : waitForRoom(raw);
    },
    batch() {
      if (!direct || socket === null || corked) return;
      corked = true;
      socket.cork();
      process.nextTick(uncork);
    },
    end() {
      if (!raw.writableEnded) raw.end();
    },
    handOver() {
      // A plain TCP socket only: bytes written to a TLS socket's descriptor would bypass TLS.
      if (!direct || socket === null || socket instanceof TLSSocket || !socket.writable || raw.destroyed)
        return undefined;
      const fd = (socket as unknown as { _handle?: { fd?: unknown } })._handle?.fd;
      if (typeof fd !== "number" || fd < 0) return undefined;
      if (!headSent) {
        headSent = true;
        raw.flushHeaders();
      }
      if (socket.writableLength !== 0) return undefined;
      return {
        fd,
        chunked,
        writeRest(bytes) {
          if (socket.writable && !socket.destroyed) socket.write(bytes);
        },
      };
    },
  };
}
