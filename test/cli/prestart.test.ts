/**
 * `llm-twin serve` forks node-llama-cpp's binary test before it loads its own module (prestart in
 * src/cli/command-table.ts), so the test overlaps the loading of everything else; `serve --help`
 * starts nothing, and a command line refused by the parser exits without waiting for that test.
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** Runs main() from the sources, printing each module loaded and each binary test forked, in order. */
function runMain(args: readonly string[]): { status: number | null; stdout: string; stderr: string } {
  const hooks = `export async function load(url, context, next) { process.stderr.write("loaded " + url + "\\n"); return next(url, context); }`;
  const script = [
    'import { register } from "node:module";',
    'import { subscribe } from "node:diagnostics_channel";',
    `register("data:text/javascript,${encodeURIComponent(hooks)}");`,
    'subscribe("child_process", ({ process: child }) => setImmediate(() => process.stderr.write("spawned " + child.spawnargs.join(" ") + "\\n")));',
    'const { main } = await import("./src/cli/main.ts");',
    `await main(["node", "llm-twin", ${args.map((arg) => JSON.stringify(arg)).join(", ")}]);`,
  ].join("\n");
  const result = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
    cwd: ROOT,
    encoding: "utf8",
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe("serve's prestart", () => {
  it("serve --help loads neither node-llama-cpp nor forks its binary test", () => {
    const result = runMain(["serve", "--help"]);
    expect(result.stdout).toContain("Usage: llm-twin serve");
    expect(result.stderr).toContain("/src/cli/commands/serve.ts");
    expect(result.stderr).not.toContain("/node_modules/node-llama-cpp/");
    expect(result.stderr).not.toContain("testBindingBinary");
  });

  it("serve forks the binary test before its command module loads; a refused flag still ends it with one error", () => {
    const result = runMain(["serve", "--no-such-flag"]);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("error: unknown option '--no-such-flag'");
    const lines = result.stderr.split("\n");
    const forked = lines.findIndex((line) => line.startsWith("spawned") && line.includes("testBindingBinary"));
    const commandLoaded = lines.findIndex((line) => line.includes("/src/cli/commands/serve.ts"));
    expect(forked).toBeGreaterThan(-1);
    expect(commandLoaded).toBeGreaterThan(forked);
  });
});
