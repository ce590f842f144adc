import { readRawDocuments } from "./readers/index.js";

/**
 * Counts the records of an input (readable or not) for the progress ETA. Costs one extra parse of
 * the input, so callers only do it for inputs small enough (see the CLI's --count-limit-bytes).
 */
export async function countInputDocuments(source: string): Promise<number> {
  let count = 0;
  for await (const _result of readRawDocuments(source)) count++;
  return count;
}
