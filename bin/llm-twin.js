#!/usr/bin/env node
// Entry point of the `llm-twin` command. Runs the compiled build when it exists (made by
// `npm run build`), else the TypeScript sources through tsx, so a checkout works before and after
// a build.
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

const GENERATING_COMMANDS = new Set(["serve-llm", "serve"]);
if (GENERATING_COMMANDS.has(process.argv[2] ?? "") && process.env.UV_THREADPOOL_SIZE === undefined) {
  process.env.UV_THREADPOOL_SIZE = "1";
}

async function run() {
  const compiled = path.join(__dirname, "..", "dist", "cli", "main.js");
  const useSource = process.env.LLM_TWIN_FROM_SOURCE === "1" || !existsSync(compiled);
  let entry = compiled;
  if (useSource) {
    const { register } = await import("tsx/esm/api");
    register();
    entry = path.join(__dirname, "..", "src", "cli", "main.ts");
  }
  const { main } = await import(pathToFileURL(entry).href);
  await main(process.argv);
}

run().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
