/**
 * An input that yields no readable record must fail the run before the store is touched: reads
 * until the first good record (keeping the failures met on the way), then replays everything.
 * Partly bad inputs go on as before: their bad records are skipped and reported.
 */
import { AppError } from "../errors/index.js";
import type { ReadResult } from "./readers/index.js";

/** Failure reasons quoted in the error, at most. */
const REASONS_SHOWN = 3;

export async function requireReadableDocuments(
  results: AsyncIterable<ReadResult>,
  source: string,
): Promise<AsyncIterable<ReadResult>> {
  const iterator = results[Symbol.asyncIterator]();
  const seen: ReadResult[] = [];
  for (;;) {
    const next = await iterator.next();
    if (next.done) break;
    seen.push(next.value);
    if (next.value.ok) return replay(seen, iterator);
  }
  throw noRecordError(seen, source);
}

async function* replay(seen: ReadResult[], iterator: AsyncIterator<ReadResult>): AsyncIterable<ReadResult> {
  yield* seen;
  seen.length = 0;
  for (;;) {
    const next = await iterator.next();
    if (next.done) return;
    yield next.value;
  }
}

export function noRecordError(failures: readonly ReadResult[], source: string): AppError {
  const advice = "accepted inputs: a JSON array, JSON Lines, or a folder of such files (docs/data-formats.md)";
  if (failures.length === 0)
    return new AppError("bad_request", `no document in ${source}: the input holds no records; ${advice}`);
  const reasons = failures
    .slice(0, REASONS_SHOWN)
    .map((failure) =>
      failure.ok
        ? ""
        : `${failure.source.file}${failure.source.index >= 0 ? `[${failure.source.index}]` : ""}: ${oneLine(failure.reason)}`,
    )
    .join("; ");
  const more = failures.length > REASONS_SHOWN ? ` (and ${failures.length - REASONS_SHOWN} more)` : "";
  return new AppError(
    "invalid_document",
    `no document could be read from ${source}: ${failures.length} record(s) skipped: ${reasons}${more}; nothing was written; ${advice}`,
  );
}

function oneLine(text: string): string {
  const line = text.replace(/\s+/g, " ").trim();
  return line.length > 200 ? `${line.slice(0, 200)}…` : line;
}
