// `npm run docs:settings`: rewrites the settings tables in docs/ from the configuration registry.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { SETTINGS_DOC_TABLES, writeSettingsTable } from "../src/config/settings-docs.js";

const root = fileURLToPath(new URL("../", import.meta.url));
for (const table of SETTINGS_DOC_TABLES) {
  const file = join(root, table.doc);
  const before = readFileSync(file, "utf8");
  const after = writeSettingsTable(before, table.name, await table.settings());
  if (after !== before) writeFileSync(file, after);
  process.stdout.write(`${table.doc} (${table.name}): ${after === before ? "up to date" : "rewritten"}\n`);
}
