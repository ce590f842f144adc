#!/usr/bin/env node
// Entry point of the `llm-twin` command. Runs the compiled build (dist/, made by `npm run build`,
// which `npm ci` / `npm install` run through `prepare`) when it is there and newer than every
// source, else the TypeScript sources through tsx, so a checkout works before a build and right
// after an edit. LLM_TWIN_FROM_SOURCE=1 forces the sources. Of the compiled build it runs the
// bundle (dist/bundle/main.js, scripts/bundle-cli.mjs: fewer files to load at start-up), or
// dist/cli/main.js when a build has no bundle.
//
// CommonJS on purpose (bin/package.json): it runs before anything uses libuv's thread pool, whose
// size is read once from UV_THREADPOOL_SIZE when the pool starts (an ES module entry is itself read
// through the pool). The commands that generate with llama.cpp in this process get a pool of one
// thread unless UV_THREADPOOL_SIZE is set: node-llama-cpp runs every decode and sampling call on
// the pool, and one thread keeps them on the same OS thread (and its OpenMP team) instead of
// spreading them over four, measured 10–40% more tokens/s on 2 cores (docs/benchmarks.md, issue 8).
"use strict";
const { existsSync } = require("node:fs");
const path = require("node:path");
const { pathToFileURL } = require("node:url");
const { compiledIsCurrent } = require("./compiled-build.js");

const GENERATING_COMMANDS = new Set(["serve-llm", "serve"]);
if (GENERATING_COMMANDS.has(process.argv[2] ?? "") && process.env.UV_THREADPOOL_SIZE === undefined) {
  process.env.UV_THREADPOOL_SIZE = "1";
}

const ROOT = path.join(__dirname, "..");

async function run() {
  const bundled = path.join(ROOT, "dist", "bundle", "main.js");
  const compiled = existsSync(bundled) ? bundled : path.join(ROOT, "dist", "cli", "main.js");
  const useSource = process.env.LLM_TWIN_FROM_SOURCE === "1" || !compiledIsCurrent(ROOT);
  let entry = compiled;
  if (useSource) {
    const { register } = await import("tsx/esm/api");
    register();
    entry = path.join(ROOT, "src", "cli", "main.ts");
  }
  const { main } = await import(pathToFileURL(entry).href);
  await main(process.argv);
}

run().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
