/**
 * bin/compiled-build.js decides whether the bin runs the compiled build or the sources: dist/ is
 * current when its build stamp is newer than every file under src/, at any depth.
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

const { compiledIsCurrent } = createRequire(import.meta.url)("../../bin/compiled-build.js") as {
  compiledIsCurrent(root: string): boolean;
};

const BUILT = new Date("2026-01-02T00:00:00Z");
const BEFORE = new Date("2026-01-01T00:00:00Z");
const AFTER = new Date("2026-01-03T00:00:00Z");

function file(path: string, time: Date): void {
  mkdirSync(join(path, ".."), { recursive: true });
  writeFileSync(path, "x");
  utimesSync(path, time, time);
}

describe("compiledIsCurrent", () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), "llm-twin-compiled-build-"));
    file(join(root, "dist", "cli", "main.js"), BUILT);
    file(join(root, "dist", ".build-stamp"), BUILT);
    file(join(root, "src", "cli", "main.ts"), BEFORE);
    file(join(root, "src", "a", "b", "c", "deep.ts"), BEFORE);
    file(join(root, "src", "web", "assets", "app.js"), BEFORE);
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it("is current when every source is older than the build", () => {
    expect(compiledIsCurrent(root)).toBe(true);
  });

  it("is stale when any file, however deep and whatever its kind, changed after the build", () => {
    utimesSync(join(root, "src", "a", "b", "c", "deep.ts"), AFTER, AFTER);
    expect(compiledIsCurrent(root)).toBe(false);
    utimesSync(join(root, "src", "a", "b", "c", "deep.ts"), BEFORE, BEFORE);
    file(join(root, "src", "web", "assets", "new.css"), AFTER);
    expect(compiledIsCurrent(root)).toBe(false);
  });

  it("does not follow symbolic links (as before: a linked folder's files are not sources)", () => {
    file(join(root, "elsewhere", "linked.ts"), AFTER);
    symlinkSync(join(root, "elsewhere"), join(root, "src", "linked"));
    expect(compiledIsCurrent(root)).toBe(true);
  });

  it("is current without src/ (an installed package) and stale without a build stamp or a build", () => {
    rmSync(join(root, "src"), { recursive: true });
    expect(compiledIsCurrent(root)).toBe(true);
    rmSync(join(root, "dist", ".build-stamp"));
    file(join(root, "src", "x.ts"), BEFORE);
    expect(compiledIsCurrent(root)).toBe(false);
    rmSync(join(root, "dist", "cli", "main.js"));
    expect(compiledIsCurrent(root)).toBe(false);
  });
});
