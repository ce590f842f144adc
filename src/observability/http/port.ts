/**
 * The port check every `serve*` command runs before loading anything heavy: a port already in
 * use (or not allowed), or a host that is no address of this machine, is one line naming it and how
 * to change it, not a stack trace after the model has loaded.
 */
import { createServer } from "node:net";
import type { FastifyInstance } from "fastify";
import { AppError } from "../../errors/index.js";

const HOW_TO_CHANGE = "choose another with --port (or LLM_TWIN_PORT)";

export function portError(error: unknown, host: string, port: number): AppError | undefined {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === "EADDRINUSE") {
    return new AppError("port_in_use", `port ${port} on ${host} is already in use: ${HOW_TO_CHANGE}`, {
      cause: error,
    });
  }
  if (code === "EACCES") {
    return new AppError("port_in_use", `port ${port} on ${host} is not allowed for this user: ${HOW_TO_CHANGE}`, {
      cause: error,
    });
  }
  if (code === "EADDRNOTAVAIL") {
    return new AppError(
      "configuration_error",
      `cannot listen on ${host}: no such local address; choose another with --host (or LLM_TWIN_HOST)`,
      { cause: error },
    );
  }
  if (code === "ENOTFOUND" || code === "EAI_AGAIN" || code === "EAI_NONAME") {
    return new AppError(
      "configuration_error",
      `cannot listen on ${host}: the name does not resolve to an address; choose another with --host (or LLM_TWIN_HOST)`,
      { cause: error },
    );
  }
  return undefined;
}

/** Resolves when `host:port` can be bound now (port 0 always can); otherwise a one-line AppError. */
export async function assertPortFree(host: string, port: number): Promise<void> {
  if (port === 0) return;
  await new Promise<void>((resolve, reject) => {
    const probe = createServer();
    probe.unref();
    probe.once("error", (error) => reject(portError(error, host, port) ?? error));
    probe.listen({ host, port, exclusive: true }, () => probe.close(() => resolve()));
  });
}

/** `app.listen` with the same one-line errors (the port can be taken between check and listen). */
export async function listenOrExplain(app: FastifyInstance, host: string, port: number): Promise<void> {
  try {
    await app.listen({ host, port });
  } catch (error) {
    throw portError(error, host, port) ?? error;
  }
}
