/** The settings tables in docs/ say what the configuration registry says (`npm run docs:settings` regenerates them). */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { settingsTable } from "../../src/config/settings.js";
import { readSettingsTable, SETTINGS_DOC_TABLES } from "../../src/config/settings-docs.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

describe("settings tables in docs/", () => {
  for (const table of SETTINGS_DOC_TABLES) {
    it(`${table.doc} (${table.name}) matches the registry`, async () => {
      const markdown = readFileSync(join(ROOT, table.doc), "utf8");
      const current = readSettingsTable(markdown, table.name);
      expect(current, `no <!-- settings: ${table.name} --> block in ${table.doc}`).toBeDefined();
      expect(current, `${table.doc} is out of date: run npm run docs:settings`).toBe(
        settingsTable(await table.settings()),
      );
    });
  }

  it("every setting of a table has an LLM_TWIN_* variable and a help line", async () => {
    for (const table of SETTINGS_DOC_TABLES) {
      for (const setting of await table.settings()) {
        expect(setting.env).toMatch(/^LLM_TWIN_[A-Z0-9_]+$/);
        expect(setting.help.length).toBeGreaterThan(0);
      }
    }
  });
});
