#!/usr/bin/env node
// Entry point of the `llm-twin` command. Runs the compiled build when it exists (made by
// `npm run build`, which `npm ci` runs through the `prepare` script), else the TypeScript
// sources through tsx, so a checkout works before and after a build.
import { existsSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";

const compiled = fileURLToPath(new URL("../dist/cli/main.js", import.meta.url));
const useSource = process.env.LLM_TWIN_FROM_SOURCE === "1" || !existsSync(compiled);
if (useSource) {
  const { register } = await import("tsx/esm/api");
  register();
  const source = fileURLToPath(new URL("../src/cli/main.ts", import.meta.url));
  const { main } = await import(pathToFileURL(source).href);
  await main(process.argv);
} else {
  const { main } = await import(pathToFileURL(compiled).href);
  await main(process.argv);
}
