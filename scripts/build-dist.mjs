#!/usr/bin/env node
// Builds the compiled output the `llm-twin` command runs (src/ → dist/): tsc with
// tsconfig.build.json, then the non-TypeScript assets, then the command's bundle (dist/bundle/,
// scripts/bundle-cli.mjs), then dist/.build-stamp, which bin/llm-twin.js
// compares with the sources' modification times (an edited source makes it run the sources through
// tsx until the next build, so a stale build never runs).
//
// `--optional` (how `npm ci` / `npm install` run it, through the `prepare` script): without
// TypeScript (an install that omits dev dependencies) it warns and the command runs the sources.
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { bundleCli } from "./bundle-cli.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const dist = path.join(root, "dist");
const stamp = path.join(dist, ".build-stamp");
const optional = process.argv.includes("--optional");
const ASSET_DIRECTORIES = ["web/assets", "eval/datasets"];

function step(message) {
  process.stdout.write(`[build] ${message}\n`);
}

let tsc;
try {
  tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
} catch {
  if (!optional) {
    step("typescript is not installed: run npm install (with dev dependencies) first");
    process.exit(1);
  }
  step("typescript is not installed: dist/ not built; llm-twin runs the sources through tsx");
  process.exit(0);
}

const started = Date.now();
// From scratch (no output of a deleted source survives); a half-written build has no stamp, so it
// never looks current.
rmSync(dist, { recursive: true, force: true });
const result = spawnSync(process.execPath, [tsc, "-p", path.join(root, "tsconfig.build.json")], {
  cwd: root,
  stdio: "inherit",
});
if (result.status !== 0) {
  step(`tsc failed (exit ${result.status ?? result.signal})${optional ? ": llm-twin runs the sources through tsx" : ""}`);
  process.exit(optional ? 0 : 1);
}
for (const directory of ASSET_DIRECTORIES) {
  const from = path.join(root, "src", directory);
  if (existsSync(from)) cpSync(from, path.join(dist, directory), { recursive: true });
}
try {
  await bundleCli();
} catch (error) {
  // Without the bundle the command runs dist/cli/main.js, file by file: slower to start, same behaviour.
  step(`bundling the command failed: ${error instanceof Error ? error.message : String(error)}`);
  if (!optional) process.exit(1);
}
// Dated when the build started: a source saved while tsc ran is newer, so the build counts as stale.
writeFileSync(stamp, `${new Date(started).toISOString()}\n`);
utimesSync(stamp, started / 1000, started / 1000);
step(`dist/ built in ${((Date.now() - started) / 1000).toFixed(1)} s`);
