/**
 * Fastify options shared by both services: request ids, the body limit, server-side timeouts
 * (headers, whole request, keep-alive), and malformed requests that never reach a route (a URL
 * that does not decode, an over-long parameter, bytes Node's HTTP parser refuses, a client too
 * slow to send its request) answered in the project's one error shape.
 */
import { randomUUID } from "node:crypto";
import type { Server } from "node:http";
import { STATUS_CODES } from "node:http";
import type { Socket } from "node:net";
import type { FastifyError, FastifyHttpOptions, FastifyReply, FastifyRequest } from "fastify";
import { type ErrorCode, HTTP_STATUS } from "../../errors/index.js";
import { errorBody } from "./errors.js";
import { lazySchemaController } from "./lazy-schemas.js";
import { REQUEST_ID_HEADER, requestIdFrom } from "./request-id.js";

export type HttpTimeouts = {
  /** Time a client has to send the request line and headers (Node's headersTimeout). */
  headersTimeoutMs: number;
  /** Time a client has to send the whole request, body included (Node's requestTimeout). */
  receiveTimeoutMs: number;
  /** How long an idle keep-alive connection stays open. */
  keepAliveTimeoutMs: number;
};

export const DEFAULT_HTTP_TIMEOUTS: HttpTimeouts = {
  headersTimeoutMs: 10_000,
  receiveTimeoutMs: 30_000,
  keepAliveTimeoutMs: 72_000,
};

/** Longest path parameter; longer ones get 414 `uri_too_long`. */
export const MAX_PARAM_LENGTH = 200;

/** Answers an error that happened before any route ran (Fastify's frameworkErrors). */
export type FrameworkErrorResponder = (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => void;

export type EdgeServerOptions = {
  bodyLimitBytes: number;
  timeouts: HttpTimeouts;
  /** How the service answers errors raised before routing (bad URL, over-long parameter). */
  respond: FrameworkErrorResponder;
};

const CLIENT_ERRORS: Record<string, { code: ErrorCode; message: string }> = {
  ERR_HTTP_REQUEST_TIMEOUT: {
    code: "request_timeout",
    message: "the request was not received in time (see --receive-timeout-ms / --headers-timeout-ms)",
  },
  HPE_HEADER_OVERFLOW: { code: "headers_too_large", message: "the request line or headers are too large" },
};

/**
 * Node's `clientError`: the request could not be parsed (or came too slowly), so no route and no
 * Fastify request exist. Answers in the one shape on the raw socket, then closes it.
 */
export function answerClientError(error: NodeJS.ErrnoException, socket: Socket): void {
  if (error.code === "ECONNRESET" || socket.destroyed) return;
  const known = error.code === undefined ? undefined : CLIENT_ERRORS[error.code];
  const code = known?.code ?? "bad_request";
  const message = known?.message ?? "malformed HTTP request";
  const status = HTTP_STATUS[code];
  const requestId = randomUUID();
  const body = JSON.stringify(errorBody({ status, code, message }, requestId));
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${REQUEST_ID_HEADER}: ${requestId}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}

export function edgeServerOptions(options: EdgeServerOptions): FastifyHttpOptions<Server> {
  const { timeouts } = options;
  // Node refuses a headers timeout above the request timeout; the request timeout bounds both.
  const headersTimeout = Math.min(timeouts.headersTimeoutMs, timeouts.receiveTimeoutMs);
  return {
    bodyLimit: options.bodyLimitBytes,
    genReqId: requestIdFrom,
    requestTimeout: timeouts.receiveTimeoutMs,
    keepAliveTimeout: timeouts.keepAliveTimeoutMs,
    http: {
      headersTimeout,
      // Node checks the two timeouts above every 30 s by default: a slow client would keep its
      // socket up to 30 s past the limit.
      connectionsCheckingInterval: Math.max(50, Math.min(1_000, Math.floor(headersTimeout / 2))),
    },
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    clientErrorHandler: answerClientError,
    frameworkErrors: options.respond,
    schemaController: lazySchemaController(),
  };
}
