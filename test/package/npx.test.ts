/**
 * `npx llm-twin` in a clone must not rebuild native/. npm runs `npx <bin>` of the project it stands
 * in by installing that directory as a link into its npx cache, and links run their `prepare`
 * script (with npm_command=exec): our `prepare` built the native addon, under whatever was running.
 * Checked with npm itself on a stand-in project (offline, its own npm cache) that carries the real
 * `prepare` script and a build script that only leaves a mark.
 */
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const root = resolve(import.meta.dirname, "../..");
const manifest = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { scripts: Record<string, string> };

describe("npx llm-twin in a clone", () => {
  const work = mkdtempSync(join(tmpdir(), "llm-twin-npx-"));
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it("runs the command without running the native build", () => {
    const project = join(work, "project");
    const mark = join(work, "native-build-ran");
    mkdirSync(join(project, "bin"), { recursive: true });
    mkdirSync(join(project, "scripts"), { recursive: true });
    writeFileSync(
      join(project, "package.json"),
      JSON.stringify({
        name: "llm-twin-npx-probe",
        version: "1.0.0",
        bin: { "llm-twin-npx-probe": "bin/probe.js" },
        scripts: { prepare: manifest.scripts.prepare },
      }),
    );
    writeFileSync(join(project, "bin", "probe.js"), '#!/usr/bin/env node\nconsole.log("the command ran");\n');
    chmodSync(join(project, "bin", "probe.js"), 0o755);
    writeFileSync(
      join(project, "scripts", "build-native.mjs"),
      `import { writeFileSync } from "node:fs";\nwriteFileSync(${JSON.stringify(mark)}, process.env.npm_command ?? "");\n`,
    );
    const npx = (args: string[]) =>
      spawnSync("npx", ["--offline", "--yes", "--cache", join(work, "npm-cache"), ...args], {
        cwd: project,
        encoding: "utf8",
        env: { ...process.env, npm_config_update_notifier: "false" },
      });
    const result = npx(["llm-twin-npx-probe"]);
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toContain("the command ran");
    expect(existsSync(mark), "npx ran the native build (prepare)").toBe(false);

    // The guard is what skips it: `npm ci` / `npm install` in the clone still build (prepare runs there).
    const install = spawnSync(
      "npm",
      ["install", "--offline", "--no-audit", "--no-fund", "--cache", join(work, "npm-cache")],
      {
        cwd: project,
        encoding: "utf8",
      },
    );
    expect(install.status, install.stderr).toBe(0);
    expect(readFileSync(mark, "utf8")).toBe("install");
  }, 120_000);
});
