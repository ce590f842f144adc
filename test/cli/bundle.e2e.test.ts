/**
 * `npm start` and every installed `llm-twin` run the bundled build (dist/bundle, made by `npm run
 * build` through `prepare`), while the other end-to-end tests spawn the CLI from its sources. This
 * one runs the bundle itself: `serve` on an empty store finds the project's sample data, ingests it,
 * answers /rag with sources, serves the chat page and /docs; `ingest` and a mistake are checked
 * too. Files the bundle locates relative to itself (project root, web assets, sample data, eval
 * datasets, the native addon, node-llama-cpp's folders and its binary test) are what a bundling
 * mistake breaks first.
 */
import { existsSync, readdirSync, readFileSync, realpathSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tinyModelPath } from "../../src/gguf/index.js";
import { freePort, generateWhenHealthy, serveFlags, spawnCli, stop, waitForStatus } from "../rag/processes.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const { compiledIsCurrent } = createRequire(import.meta.url)("../../bin/compiled-build.js") as {
  compiledIsCurrent(root: string): boolean;
};
// `npm ci` builds the bundle (CI always has it); after an edit the bin runs the sources instead,
// so there is no bundle to test until `npm run build`.
const bundled = existsSync(join(ROOT, "dist", "bundle", "main.js")) && compiledIsCurrent(ROOT);
if (!bundled) console.warn("bundle e2e skipped: dist/bundle is missing or older than src/ (run npm run build)");

/** The bin as a user runs it: no LLM_TWIN_FROM_SOURCE, so it picks the bundle. */
const fromBundle = { LLM_TWIN_FROM_SOURCE: undefined };

describe.skipIf(!bundled)("the bundled command", () => {
  let directory: string;

  beforeAll(async () => {
    directory = await mkdtemp(join(tmpdir(), "llm-twin-bundle-"));
  });
  afterAll(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  it("serve ingests the sample data into an empty store and answers /rag, the chat page and /docs", async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const serve = spawnCli(
      [
        "serve",
        "--model",
        await tinyModelPath("chat"),
        "--store",
        `lancedb:${join(directory, "store")}`,
        "--embedder",
        "static",
        ...serveFlags(port),
      ],
      fromBundle,
    );
    try {
      await waitForStatus(`${url}/ready`, 200, serve, 120_000);
      expect(serve.output()).toContain("is empty: ingesting");
      const response = await fetch(`${url}/rag`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ query: "My name is Paul Iusztin. Write a post about RAG systems.", maxNewTokens: 4 }),
      });
      expect(response.status).toBe(200);
      const answer = (await response.json()) as { sources: { author: { fullName: string } }[] };
      expect(answer.sources.length).toBeGreaterThan(0);
      const page = await fetch(`${url}/`);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain("<html");
      const docs = await fetch(`${url}/docs/json`);
      expect(((await docs.json()) as { paths: Record<string, unknown> }).paths).toHaveProperty("/rag");
      const bad = await fetch(`${url}/rag`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: "{",
      });
      expect(bad.status).toBe(400);
      expect(((await bad.json()) as { error: { code: string } }).error.code).toBeTypeOf("string");
      await stop(serve);
      expect(serve.child.exitCode).toBe(0);
      expect(serve.output()).not.toContain("    at ");
    } finally {
      await stop(serve);
    }
  });

  it("bundles node-llama-cpp, whose binary test still forks its own file from node_modules, and loads the model with it", async () => {
    const bundle = join(ROOT, "dist", "bundle");
    const chunks = readdirSync(bundle).map((file) => readFileSync(join(bundle, file), "utf8"));
    // Not imported from node_modules: its code is in the bundle, located where it is installed.
    expect(chunks.some((text) => /from ?"node-llama-cpp"|import\(\s*"node-llama-cpp"\s*\)/.test(text))).toBe(false);
    expect(chunks.some((text) => text.includes('import.meta.resolve("node-llama-cpp")'))).toBe(true);

    // Records every process the command forks (Node's child_process diagnostics channel reports it
    // before it spawns: its arguments are known once it has).
    const forks = join(directory, "forks.jsonl");
    const preload = join(directory, "record-forks.cjs");
    await writeFile(
      preload,
      `if (process.env.TEST_BINDING_CP !== "true") require("node:diagnostics_channel").subscribe("child_process", ({ process: child }) =>
        child.once("spawn", () => require("node:fs").appendFileSync(${JSON.stringify(forks)}, JSON.stringify(child.spawnargs) + "\\n")));`,
    );
    const port = await freePort();
    const serve = spawnCli(["serve-llm", "--model", await tinyModelPath("chat"), ...serveFlags(port)], {
      ...fromBundle,
      NODE_OPTIONS: `--require ${preload}`,
    });
    try {
      const response = await generateWhenHealthy(serve, port, 120_000);
      expect(response.status).toBe(200);
      const testFile = realpathSync(join(ROOT, "node_modules/node-llama-cpp/dist/bindings/utils/testBindingBinary.js"));
      const forked = (await readFile(forks, "utf8"))
        .trim()
        .split("\n")
        .map((line) => JSON.parse(line) as string[]);
      expect(forked.some((args) => args.includes(testFile))).toBe(true);
      // A bundled copy of that file would skip the test with this warning.
      expect(serve.output()).not.toContain("is not independent");
      await stop(serve);
      expect(serve.child.exitCode).toBe(0);
    } finally {
      await stop(serve);
    }
  });

  it("ingest --help, and a mistyped flag as one line", async () => {
    const help = spawnCli(["ingest", "--help"], fromBundle);
    expect(await help.exited).toBe(0);
    expect(help.output()).toContain("LLM_TWIN_STORE");
    const mistake = spawnCli(["ingest", "--stor", "x"], fromBundle);
    expect(await mistake.exited).not.toBe(0);
    expect(mistake.output()).toContain("--stor");
    expect(mistake.output()).not.toContain("    at ");
  });
});
