/**
 * One signal path: only src/runtime installs SIGINT/SIGTERM handlers; every command goes through
 * `handleShutdownSignals` (graceful close with a deadline, a second signal forces the exit).
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const SOURCES = fileURLToPath(new URL("../../src", import.meta.url));
const HANDLER = /process\s*\.\s*(on|once|addListener|prependListener|prependOnceListener)\s*\(\s*["'`](SIGINT|SIGTERM)/;

function sourceFiles(folder: string): string[] {
  return readdirSync(folder, { withFileTypes: true }).flatMap((entry) => {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return /\.ts$/.test(entry.name) && !/\.test\.ts$/.test(entry.name) ? [path] : [];
  });
}

describe("signal handlers", () => {
  it("are installed only by src/runtime", () => {
    const offenders = sourceFiles(SOURCES)
      .filter((file) => !relative(SOURCES, file).startsWith("runtime"))
      .filter((file) => HANDLER.test(readFileSync(file, "utf8")))
      .map((file) => relative(SOURCES, file));
    expect(offenders).toEqual([]);
  });

  it("the check itself recognises a handler", () => {
    expect(HANDLER.test(`process.once("SIGTERM", abort)`)).toBe(true);
    expect(HANDLER.test(`process.on('SIGINT', () => {})`)).toBe(true);
    expect(HANDLER.test(`process.on("exit", stop)`)).toBe(false);
  });
});
