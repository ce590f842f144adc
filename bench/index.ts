/**
 * `npm run bench [-- <suite> [suite options]]`: runs one benchmark suite from bench/suites, or all
 * of them in turn. Each suite is a module exporting `name`, `description` and `run(args)`.
 */
import { readdir } from "node:fs/promises";
import { basename } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

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
    await suite.run(requested === undefined ? [] : rest);
  }
}

await main(process.argv.slice(2));
