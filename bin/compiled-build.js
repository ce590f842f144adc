// Whether the compiled build (dist/) can run: bin/llm-twin.js runs it when this says so, else the
// sources through tsx; the package test asks it whether to build first. CommonJS like the bin.
"use strict";
const { existsSync, readdirSync, statSync } = require("node:fs");
const path = require("node:path");

/**
 * True when `root`/dist holds a build (scripts/build-dist.mjs stamps it, dated when it started)
 * newer than every file under `root`/src; an installed package or an image ships dist/ only.
 */
function compiledIsCurrent(root) {
  if (!existsSync(path.join(root, "dist", "cli", "main.js"))) return false;
  const sources = path.join(root, "src");
  if (!existsSync(sources)) return true;
  let built;
  try {
    built = statSync(path.join(root, "dist", ".build-stamp")).mtimeMs;
  } catch {
    return false;
  }
  return noFileNewer(sources, built);
}

/**
 * Whether no file under `folder` (its subfolders included, symbolic links not followed) changed
 * after `time`. Walked folder by folder: about half the CPU of readdirSync's `recursive` option,
 * on the path of every command started from a checkout (docs/benchmarks.md, start-up).
 */
function noFileNewer(folder, time) {
  for (const entry of readdirSync(folder, { withFileTypes: true })) {
    const file = folder + path.sep + entry.name;
    if (entry.isDirectory() ? !noFileNewer(file, time) : entry.isFile() && statSync(file).mtimeMs > time) return false;
  }
  return true;
}

module.exports = { compiledIsCurrent };
