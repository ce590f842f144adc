/**
 * llama.cpp built for this machine for node-llama-cpp (`npm run build:llama`: node-llama-cpp's own
 * `source download`, which clones the llama.cpp source it bundles — no network — and compiles it
 * with GGML_NATIVE and OpenMP into node_modules/node-llama-cpp/llama/localBuilds, ~6 min on 2
 * cores). node-llama-cpp loads such a build in preference to its portable prebuilt binaries, so the
 * benchmarks compare llama-server and our service on kernels compiled the same way.
 */
import { spawn } from "node:child_process";
import { createWriteStream, existsSync } from "node:fs";
import { mkdir, readdir } from "node:fs/promises";
import { join } from "node:path";
import { defaultCacheDirectory, projectRoot } from "../../src/config/paths.js";
import { nativeAddonBuilt } from "../../src/llm/llama-cpp/native/addon.js";
import { ensureLlamaServer } from "./llama-server.js";

const localBuilds = join(projectRoot, "node_modules", "node-llama-cpp", "llama", "localBuilds");

/** What the LLM benchmarks measure by default: llama.cpp built for this machine, and the native loop. */
export async function ensureServingBuilds(report: (message: string) => void): Promise<void> {
  await ensureLocalLlamaBuild(report);
  await ensureNativeAddon(report);
}

/**
 * The builds of a suite that can run serve-llm beside llama-server (`--vs-llama-server`), and then
 * the llama-server binary. Side by side, serve-llm runs llama.cpp built for this machine as
 * llama-server is (npm run build:llama, once), unless `prebuilt` keeps node-llama-cpp's portable
 * binaries; alone, it needs only the native loop.
 */
export async function ensureSideBySideBuilds(
  options: { vsLlamaServer: boolean; prebuilt: boolean },
  report: (message: string) => void,
): Promise<string | undefined> {
  if (options.vsLlamaServer && !options.prebuilt) await ensureServingBuilds(report);
  else await ensureNativeAddon(report);
  return options.vsLlamaServer ? await ensureLlamaServer({ report }) : undefined;
}

/**
 * The native generation loop (`npm run build:native`, ~1 min): serve-llm's default engine when
 * built, so the benchmarks build it first rather than measure the fallback by accident.
 */
export async function ensureNativeAddon(report: (message: string) => void): Promise<void> {
  if (nativeAddonBuilt()) return;
  report("llm-twin: building the native generation loop (npm run build:native)");
  await new Promise<void>((resolve, reject) => {
    const child = spawn("npm", ["run", "-s", "build:native"], {
      cwd: projectRoot,
      stdio: ["ignore", "inherit", "inherit"],
    });
    child.on("error", reject);
    child.on("exit", (code) =>
      code === 0 ? resolve() : reject(new Error(`npm run build:native exited with ${code}`)),
    );
  });
}

/** True when a finished local build is there for node-llama-cpp to load. */
export async function hasLocalLlamaBuild(): Promise<boolean> {
  const folders = await readdir(localBuilds).catch(() => [] as string[]);
  return folders.some((folder) => existsSync(join(localBuilds, folder, "buildDone.status")));
}

/** Builds llama.cpp for this machine unless a build is there; reports `[n/total]` progress. */
export async function ensureLocalLlamaBuild(report: (message: string) => void): Promise<void> {
  if (await hasLocalLlamaBuild()) return;
  const cacheDir = defaultCacheDirectory();
  await mkdir(cacheDir, { recursive: true });
  const logPath = join(cacheDir, "llama-local-build.log");
  report(`node-llama-cpp: building llama.cpp for this CPU (npm run build:llama; ~6 min on 2 cores; log: ${logPath})`);
  const log = createWriteStream(logPath, { flags: "a" });
  let lastReport = 0;
  await new Promise<void>((resolve, reject) => {
    const child = spawn("npm", ["run", "-s", "build:llama"], { cwd: projectRoot, stdio: ["ignore", "pipe", "pipe"] });
    const onData = (chunk: Buffer) => {
      log.write(chunk);
      const steps = [...chunk.toString().matchAll(/\[(\d+)\/(\d+)\]/g)].at(-1);
      if (steps !== undefined && Date.now() - lastReport > 30_000) {
        lastReport = Date.now();
        report(`node-llama-cpp: build step ${steps[1]}/${steps[2]}`);
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.on("error", reject);
    child.on("exit", (code) =>
      code === 0 ? resolve() : reject(new Error(`npm run build:llama exited with ${code}; see ${logPath}`)),
    );
  }).finally(() => log.end());
  if (!(await hasLocalLlamaBuild())) throw new Error(`npm run build:llama left no build in ${localBuilds}`);
}
