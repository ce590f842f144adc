#!/usr/bin/env node
// Builds the native generation loop (native/ → native/build/Release/llm_twin_native.node).
//
// llama.cpp's headers are not copied into the repository: they are extracted from the git bundle
// node-llama-cpp ships (the same source its binaries were built from) into build/llama-headers,
// once per bundle commit. The addon does not link against libllama; it resolves the functions
// from the copy node-llama-cpp loads at run time (native/src/llama-api.cc).
//
// `--optional` (how `npm ci` runs it, through the `prepare` script): a machine without git, python3,
// make or a C++ compiler gets a warning instead of a failed install, and serving falls back to the
// node-llama-cpp engine. `npm run build:native` (and CI) fail loudly instead.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const bundle = path.join(root, "node_modules/node-llama-cpp/llama/gitRelease.bundle");
const headers = path.join(root, "build/llama-headers");
const stamp = path.join(headers, ".commit");

const optional = process.argv.includes("--optional");

function step(message) {
  process.stdout.write(`[build:native] ${message}\n`);
}

/** Ends the build: an error, or with --optional a warning and success. */
function fail(message) {
  if (optional) {
    step(`${message}`);
    step("the native engine was not built; serving uses node-llama-cpp (run npm run build:native to retry)");
    process.exit(0);
  }
  step(message);
  process.exit(1);
}

process.on("uncaughtException", (error) => fail(`failed: ${error instanceof Error ? error.message : String(error)}`));

function git(...args) {
  return execFileSync("git", args, { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();
}

if (!existsSync(bundle)) {
  fail(`no llama.cpp source bundle at ${path.relative(root, bundle)}: run npm ci first`);
}

const commit = git("bundle", "list-heads", bundle).split(/\s+/)[0];
if (existsSync(stamp) && readFileSync(stamp, "utf8").trim() === commit) {
  step(`llama.cpp headers for ${commit.slice(0, 12)} already in ${path.relative(root, headers)}`);
} else {
  const tmp = path.join(root, "build/llama-source.git");
  rmSync(tmp, { recursive: true, force: true });
  rmSync(headers, { recursive: true, force: true });
  mkdirSync(headers, { recursive: true });
  step(`extracting llama.cpp headers (${commit.slice(0, 12)}) from the bundle node-llama-cpp ships…`);
  git("clone", "--quiet", "--bare", bundle, tmp);
  const archive = spawnSync("git", ["--git-dir", tmp, "archive", commit, "include", "ggml/include"], {
    maxBuffer: 256 * 1024 * 1024,
  });
  if (archive.status !== 0) {
    fail(`git archive failed: ${archive.stderr.toString()}`);
  }
  const untar = spawnSync("tar", ["-x", "-C", headers], { input: archive.stdout });
  if (untar.status !== 0) {
    fail(`tar failed: ${untar.stderr.toString()}`);
  }
  rmSync(tmp, { recursive: true, force: true });
  writeFileSync(stamp, `${commit}\n`);
  step(`headers in ${path.relative(root, headers)}`);
}

// Node's own headers: node-gyp downloads them unless told where they are; installed Node builds
// (Debian's, NodeSource's, the official tarball) ship them under <prefix>/include/node, so an
// offline machine builds without configuration.
const gypArgs = ["rebuild", "--directory", path.join(root, "native")];
const prefix = path.resolve(path.dirname(process.execPath), "..");
if (process.env.npm_config_nodedir === undefined && existsSync(path.join(prefix, "include/node/node_api.h"))) {
  gypArgs.push(`--nodedir=${prefix}`);
}
step("compiling the addon with node-gyp (about a minute on 2 cores)…");
// npm runs scripts with its own node-gyp (npm_config_node_gyp); outside npm, node-gyp from PATH.
const gypScript = process.env.npm_config_node_gyp;
const gyp = spawnSync(
  gypScript === undefined ? "node-gyp" : process.execPath,
  gypScript === undefined ? gypArgs : [gypScript, ...gypArgs],
  {
    cwd: root,
    stdio: "inherit",
  },
);
if (gyp.error !== undefined || gyp.status !== 0) {
  fail(gyp.error === undefined ? `node-gyp exited with ${gyp.status}` : `node-gyp could not run: ${gyp.error.message}`);
}
step("built native/build/Release/llm_twin_native.node");
