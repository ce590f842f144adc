/**
 * Request ids: an incoming `x-request-id` is honoured when it is a sane token (letters, digits and
 * `._:-`, at most 128 characters), otherwise one is generated. The id is in every log line
 * (Fastify's reqId), in the `x-request-id` response header and in error bodies.
 */
import { randomUUID } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { FastifyInstance } from "fastify";

export const REQUEST_ID_HEADER = "x-request-id";
const SANE_ID = /^[\w.:-]{1,128}$/;

export function requestIdFrom(request: IncomingMessage): string {
  const header = request.headers[REQUEST_ID_HEADER];
  const value = Array.isArray(header) ? header[0] : header;
  return value !== undefined && SANE_ID.test(value) ? value : randomUUID();
}

export function registerRequestIdHeader(app: FastifyInstance): void {
  app.addHook("onRequest", async (request, reply) => {
    reply.header(REQUEST_ID_HEADER, request.id);
  });
}
