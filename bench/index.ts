/**
 * `npm run bench [-- <suite> [suite options]]`: runs one benchmark suite from bench/suites, or all
 * of them in turn. Each suite is a module exporting `name`, `description` and `run(args)`.
 * The LLM suites read their options with bench/support/bench-options.ts: `<suite> --help` lists
 * them with their defaults, a bad one stops the suite with one message (exit code 2).
 */
import { readdir } from "node:fs/promises";
import { basename } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { BenchOptionsError } from "./support/bench-options.js";

type Suite = { name: string; description: string; run(args: string[]): Promise<void> };

async function loadSuites(): Promise<Suite[]> {
  const folder = fileURLToPath(new URL("./suites/", import.meta.url));
  const files = (await readdir(folder)).filter((file) => file.endsWith(".ts")).sort();
  const suites: Suite[] = [];
  for (const file of files) {
    const suite = (await import(pathToFileURL(`${folder}${file}`).href)) as Partial<Suite>;
    if (typeof suite.run === "function") {
      suites.push({ name: suite.name ?? basename(file, ".ts"), description: suite.description ?? "", run: suite.run });
    }
  }
  return suites;
}

async function main(argv: string[]): Promise<void> {
  const [requested, ...rest] = argv;
  const suites = await loadSuites();
  if (requested === "--help" || requested === "-h" || requested === "list") {
    process.stdout.write("npm run bench [-- <suite> [options]]\n\nsuites:\n");
    for (const suite of suites) process.stdout.write(`  ${suite.name.padEnd(24)} ${suite.description}\n`);
    return;
  }
  const selected = requested === undefined ? suites : suites.filter((suite) => suite.name === requested);
  if (selected.length === 0) {
    process.stderr.write(`unknown suite '${requested}'; try: ${suites.map((suite) => suite.name).join(", ")}\n`);
    process.exitCode = 2;
    return;
  }
  for (const suite of selected) {
    process.stderr.write(`\n== bench: ${suite.name} ==\n`);
    try {
      await suite.run(requested === undefined ? [] : rest);
    } catch (error) {
      if (!(error instanceof BenchOptionsError)) throw error;
      (error.exitCode === 0 ? process.stdout : process.stderr).write(`${suite.name}: ${error.message}\n`);
      process.exitCode = error.exitCode;
      return;
    }
  }
}

await main(process.argv.slice(2));
