/**
 * Log options shared by both services: requests are logged by path only (query strings can carry
 * keys and personal data), headers are never logged, and any field that can carry a secret is
 * replaced by "[redacted]" at every level.
 */
import type { IncomingMessage } from "node:http";
import type { LoggerOptions } from "pino";

export type LogLevel = "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";

const SECRET_FIELDS = [
  "authorization",
  "cookie",
  "set-cookie",
  "x-api-key",
  "apiKey",
  "apiKeys",
  "api_key",
  "password",
  "token",
  "secret",
] as const;

/** Pino redaction paths: each secret field at the top level, one level down and in headers. */
export const REDACTED_PATHS: string[] = SECRET_FIELDS.flatMap((field) => {
  // Names with a dash need pino's bracket notation.
  const key = field.includes("-") ? `["${field}"]` : `.${field}`;
  const top = field.includes("-") ? `["${field}"]` : field;
  return [top, `*${key}`, `*.headers${key}`];
});

/** The path of a request URL, without its query string or fragment. */
export function pathOnly(url: string | undefined): string {
  if (url === undefined) return "";
  const end = url.search(/[?#]/);
  return end === -1 ? url : url.slice(0, end);
}

type LoggedRequest = {
  method?: string;
  url?: string;
  ip?: string;
  raw?: IncomingMessage;
  socket?: IncomingMessage["socket"];
};

/** What is logged of a request: method, path (no query string), client address. Never headers. */
export function serializeRequest(request: LoggedRequest): Record<string, unknown> {
  return {
    method: request.method,
    url: pathOnly(request.url),
    remoteAddress: request.ip ?? request.socket?.remoteAddress,
  };
}

export function edgeLoggerOptions(level: LogLevel, name?: string): LoggerOptions {
  return {
    level,
    ...(name === undefined ? {} : { name }),
    redact: { paths: REDACTED_PATHS, censor: "[redacted]" },
    serializers: { req: serializeRequest as never },
  };
}
