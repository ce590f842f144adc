/**
 * The top-level help is built from src/cli/command-table.ts without loading any command module:
 * it must read exactly as the help of the program with every command registered, and only
 * `llm-twin`, `--help`, `-h` and `help` take that path.
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { Help } from "commander";
import { describe, expect, it } from "vitest";
import { COMMANDS } from "../../src/cli/command-table.js";
import { buildListingProgram, buildProgram } from "../../src/cli/main.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

describe("the command table", () => {
  it("lists every command with the term and description it registers", async () => {
    const program = await buildProgram();
    const help = new Help();
    const registered = program.commands.map((command) => ({
      name: command.name(),
      term: help.subcommandTerm(command),
      summary: command.description(),
    }));
    const listed = Object.entries(COMMANDS).map(([name, entry]) => ({
      name,
      term: entry.term,
      summary: entry.summary,
    }));
    expect(listed).toEqual(registered);
  });

  it("gives the same top-level help as the program with every command loaded", async () => {
    const full = (await buildProgram()).helpInformation();
    expect((await buildListingProgram()).helpInformation()).toBe(full);
    expect(full).toContain("serve [options]");
  });

  it("prints the top-level help without importing any command module", () => {
    // A loader hook reports every module the process loads.
    const hooks = `export async function load(url, context, next) { process.stderr.write("loaded " + url + "\\n"); return next(url, context); }`;
    const script = [
      'import { register } from "node:module";',
      `register("data:text/javascript,${encodeURIComponent(hooks)}");`,
      'const { main } = await import("./src/cli/main.ts");',
      'await main(["node", "llm-twin", "--help"]);',
    ].join("\n");
    const result = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
      cwd: ROOT,
      encoding: "utf8",
    });
    expect(result.stdout).toContain("Commands:");
    expect(result.stderr).toContain("/src/cli/main.ts");
    expect(result.stderr).toContain("/src/cli/command-table.ts");
    expect(result.stderr).not.toContain("/src/cli/commands/");
    expect(result.stderr).not.toContain("/node_modules/zod/");
  });
});
