/**
 * Every option of every command comes from the configuration registry (src/config/settings.ts):
 * it has an LLM_TWIN_* variable, printed in its help as "(env: …", and commander is only used under src/cli/.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import type { Command } from "commander";
import { describe, expect, it } from "vitest";
import { buildProgram } from "../../src/cli/main.js";
import { settingOf } from "../../src/cli/settings-options.js";
import { INTERNAL_VARIABLES } from "../../src/config/internal-variables.js";
import { SETTINGS_DOC_TABLES } from "../../src/config/settings-docs.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

function* commands(command: Command, path: string): Generator<[string, Command]> {
  yield [path, command];
  for (const child of command.commands) yield* commands(child, `${path} ${child.name()}`);
}

function* sourceFiles(directory: string): Generator<string> {
  for (const entry of readdirSync(directory, { withFileTypes: true })) {
    const path = join(directory, entry.name);
    if (entry.isDirectory()) yield* sourceFiles(path);
    else if (entry.name.endsWith(".ts") && !entry.name.endsWith(".test.ts")) yield path;
  }
}

describe("the command line", () => {
  it("declares every option of every command through the registry, with its variable in --help", async () => {
    const program = await buildProgram();
    const problems: string[] = [];
    let count = 0;
    for (const [path, command] of commands(program, "llm-twin")) {
      for (const option of command.options) {
        if (option.long === "--version" || option.long === "--help") continue;
        count += 1;
        const setting = settingOf(option);
        if (setting === undefined) problems.push(`${path} ${option.flags}: not a registry setting`);
        // "--no-wait" beside "--wait" shares its setting; commander reads the variable through "--wait".
        const variable = option.envVar ?? setting?.env ?? "";
        if (!/^LLM_TWIN_[A-Z0-9_]+$/.test(variable)) problems.push(`${path} ${option.flags}: no LLM_TWIN_* variable`);
        if (!option.description.includes(`(env: ${variable}`))
          problems.push(`${path} ${option.flags}: its help does not say (env: ${variable || "LLM_TWIN_…"}, …)`);
      }
    }
    expect(count).toBeGreaterThan(100);
    expect(problems).toEqual([]);
  });

  it("imports commander only under src/cli/", () => {
    const outside = [...sourceFiles(join(ROOT, "src"))]
      .filter((file) => !relative(ROOT, file).startsWith("src/cli/"))
      .filter((file) => /from "commander"|import\("commander"\)/.test(readFileSync(file, "utf8")))
      .map((file) => relative(ROOT, file));
    expect(outside).toEqual([]);
  });

  it("reads no LLM_TWIN_* variable outside the registry, except the documented internal ones", async () => {
    const program = await buildProgram();
    const known = new Set(Object.keys(INTERNAL_VARIABLES));
    for (const [, command] of commands(program, "llm-twin"))
      for (const option of command.options) {
        const setting = settingOf(option);
        if (setting !== undefined) known.add(setting.env);
      }
    for (const table of SETTINGS_DOC_TABLES) for (const setting of await table.settings()) known.add(setting.env);
    const read = new Map<string, string>();
    for (const file of sourceFiles(join(ROOT, "src"))) {
      // Code only: doc comments may show examples.
      const text = readFileSync(file, "utf8")
        .split("\n")
        .filter((line) => !/^\s*(\*|\/\/)/.test(line))
        .join("\n");
      for (const match of text.matchAll(/\benv\.(LLM_TWIN_[A-Z0-9_]+)|["'`](LLM_TWIN_[A-Z0-9_]+)["'`]/g)) {
        const name = match[1] ?? match[2] ?? "";
        if (!known.has(name)) read.set(name, relative(ROOT, file));
      }
    }
    expect(Object.fromEntries(read)).toEqual({});
  });
});
