/**
 * The package as a user gets it: `npm pack`, the tarball installed into an empty folder, a small
 * TypeScript consumer type-checked against its declarations and run (ingest + retrieve on the
 * sample data through `import … from "llm-twin"`).
 *
 * Offline and fast: the tarball is unpacked where npm would put it (node_modules/llm-twin) and each
 * of its declared dependencies is a symlink to this checkout's node_modules (a real `npm install`
 * copies ~1 GB, node-llama-cpp's binaries, from the cache). Only the declared dependencies are
 * linked, so an import of a dev dependency from dist/ fails here as it would for a user.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tinyModelPath } from "../../src/gguf/index.js";
import { freePort, generateWhenHealthy, serveFlags, spawnNodeScript, stop } from "../rag/processes.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const { compiledIsCurrent } = createRequire(import.meta.url)("../../bin/compiled-build.js") as {
  compiledIsCurrent(root: string): boolean;
};

const CONSUMER = `
import {
  AppError,
  createEmbedder,
  type IngestSummary,
  ingest,
  openVectorStore,
  type RetrievalResult,
  retrieve,
} from "llm-twin";
import { tinyModelPath } from "llm-twin/testing";

const [source, storeDirectory] = process.argv.slice(2) as [string, string];
const store = await openVectorStore({ uri: \`lancedb:\${storeDirectory}\` });
const embedder = await createEmbedder({ model: "static" });
try {
  const summary: IngestSummary = await ingest({ source, store, embedder });
  const result: RetrievalResult = await retrieve({ query: "vector databases", store, embedder, k: 3 });
  // @ts-expect-error the query is a string: proves the declarations are real types, not any
  await retrieve({ query: 42, store, embedder }).catch(() => undefined);
  const error = new AppError("timeout", "took too long");
  const preset: (preset: "chat") => Promise<string> = tinyModelPath;
  console.log(
    JSON.stringify({
      chunksWritten: summary.chunksWritten,
      sources: result.sources.length,
      firstSourceHasText: typeof result.sources[0]?.text === "string",
      errorCode: error.code,
      retryable: error.isRetryable,
      generator: typeof preset,
    }),
  );
} finally {
  await store[Symbol.asyncDispose]();
  await embedder[Symbol.asyncDispose]();
}
`;

let folder: string;
/** The consumer folder and the package installed in it (by the first test). */
let installedIn: { consumer: string; installed: string } | undefined;

beforeAll(() => {
  folder = mkdtempSync(join(tmpdir(), "llm-twin-package-"));
  // The bin and the package run dist/: build it when it is missing or older than the sources.
  if (!compiledIsCurrent(ROOT)) execFileSync(process.execPath, [join(ROOT, "scripts/build-dist.mjs")], { cwd: ROOT });
}, 180_000);

afterAll(() => {
  if (folder !== undefined) rmSync(folder, { recursive: true, force: true });
});

describe("the npm package", () => {
  it("installs from its tarball, type-checks a consumer and runs ingest + retrieve through it", () => {
    const packed = JSON.parse(
      execFileSync("npm", ["pack", "--json", "--ignore-scripts", "--pack-destination", folder], {
        cwd: ROOT,
        encoding: "utf8",
      }),
    ) as Array<{ filename: string; files: Array<{ path: string }> }>;
    const tarball = join(folder, packed[0]?.filename ?? "");
    const files = (packed[0]?.files ?? []).map((file) => file.path);
    expect(files).toContain("dist/library/index.d.ts");
    expect(files).toContain("dist/library/testing.js");
    expect(files.some((file) => file.startsWith("src/") || file.endsWith(".test.js"))).toBe(false);

    const consumer = join(folder, "consumer");
    const installed = join(consumer, "node_modules", "llm-twin");
    mkdirSync(installed, { recursive: true });
    execFileSync("tar", ["-xzf", tarball, "-C", installed, "--strip-components=1"]);
    const manifest = JSON.parse(readFileSync(join(installed, "package.json"), "utf8")) as {
      dependencies: Record<string, string>;
    };
    for (const dependency of [...Object.keys(manifest.dependencies), "@types/node"]) {
      const link = join(consumer, "node_modules", dependency);
      mkdirSync(dirname(link), { recursive: true });
      symlinkSync(join(ROOT, "node_modules", dependency), link, "dir");
    }
    writeFileSync(join(consumer, "package.json"), JSON.stringify({ name: "consumer", private: true, type: "module" }));
    writeFileSync(
      join(consumer, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          target: "ES2022",
          module: "NodeNext",
          moduleResolution: "NodeNext",
          strict: true,
          skipLibCheck: true,
          types: ["node"],
          outDir: "out",
        },
        include: ["main.ts"],
      }),
    );
    writeFileSync(join(consumer, "main.ts"), CONSUMER);

    execFileSync(process.execPath, [join(ROOT, "node_modules/typescript/bin/tsc"), "-p", consumer], {
      cwd: consumer,
      encoding: "utf8",
    });
    const output = execFileSync(
      process.execPath,
      [join(consumer, "out/main.js"), join(installed, "sample-data"), join(folder, "store")],
      { cwd: consumer, encoding: "utf8", env: { ...process.env, LANCEDB_LOG: "error" } },
    );
    const result = JSON.parse(output.trim().split("\n").at(-1) ?? "{}");
    expect(result).toEqual({
      chunksWritten: expect.any(Number),
      sources: 3,
      firstSourceHasText: true,
      errorCode: "timeout",
      retryable: true,
      generator: "function",
    });
    expect(result.chunksWritten).toBeGreaterThan(0);
    installedIn = { consumer, installed };
  }, 120_000);

  // The bin runs the bundle, node-llama-cpp inside it: the prebuilt binary packages it imports must
  // be found from node-llama-cpp's folder, as its own import finds them, not from llm-twin's (here,
  // as with pnpm, only llm-twin's declared dependencies are beside it).
  it("serves a model with the installed bin (node-llama-cpp's prebuilt binary found)", async () => {
    expect(installedIn).toBeDefined();
    const { consumer, installed } = installedIn ?? { consumer: "", installed: "" };
    const port = await freePort();
    const serve = spawnNodeScript(
      join(installed, "bin", "llm-twin.js"),
      ["serve-llm", "--model", await tinyModelPath("chat"), ...serveFlags(port)],
      { cwd: consumer, env: { ...process.env, LLM_TWIN_FROM_SOURCE: undefined } },
    );
    try {
      const response = await generateWhenHealthy(serve, port, 60_000);
      expect(response.status).toBe(200);
      expect(serve.output()).not.toContain("NoBinaryFoundError");
    } finally {
      await stop(serve);
    }
  }, 90_000);
});
