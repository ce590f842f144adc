/** Qdrant client failures as AppErrors with stable codes. */
import { AppError } from "../../errors/app-error.js";

function statusOf(error: unknown): number | undefined {
  if (typeof error !== "object" || error === null) return undefined;
  const status = (error as { status?: unknown }).status;
  if (typeof status === "number") return status;
  // QdrantClientUnexpectedResponseError carries the status only in its message.
  const match = /Unexpected Response: (\d{3})/.exec(String((error as { message?: unknown }).message));
  return match?.[1] === undefined ? undefined : Number(match[1]);
}

export function isNotFound(error: unknown): boolean {
  return statusOf(error) === 404;
}

export async function callQdrant<T>(what: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof AppError) throw error;
    const status = statusOf(error);
    const name = error instanceof Error ? error.name : "";
    if (name === "QdrantClientTimeoutError" || name === "TimeoutError") {
      throw new AppError("timeout", `Qdrant did not answer in time: ${what}.`, { cause: error });
    }
    if (status === undefined) {
      throw new AppError("dependency_unavailable", `Qdrant is unreachable: ${what}.`, { cause: error });
    }
    if (status === 429 || status === 503) {
      throw new AppError("dependency_unavailable", `Qdrant is overloaded (HTTP ${status}): ${what}.`, { cause: error });
    }
    if (status === 401 || status === 403) {
      throw new AppError("dependency_unavailable", `Qdrant refused the API key (HTTP ${status}): ${what}.`, {
        cause: error,
        retryable: false,
      });
    }
    throw new AppError("upstream_error", `Qdrant failed (HTTP ${status}): ${what}.`, { cause: error });
  }
}
