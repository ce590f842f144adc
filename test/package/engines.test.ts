/**
 * `npm ci` on a fresh clone must not warn EBADENGINE: every package the lockfile installs on this
 * platform accepts the oldest Node the project declares (`engines.node` of package.json), and the
 * README names that same version. Overrides in package.json pin transitive versions that do (e.g.
 * content-disposition 2 and cookie 1, whose next majors need Node 22).
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const root = resolve(import.meta.dirname, "../..");
type Semver = {
  minVersion(range: string): { version: string } | null;
  satisfies(version: string, range: string): boolean;
};
// semver comes with npm's own dependency tree (bullmq, fastify...): read with require, no types needed.
const semver = createRequire(import.meta.url)("semver") as Semver;

type LockedPackage = {
  version?: string;
  engines?: { node?: string } | string[];
  optional?: boolean;
  dev?: boolean;
  os?: string[];
  cpu?: string[];
};

function installedHere(entry: LockedPackage): boolean {
  const matches = (list: string[] | undefined, value: string) =>
    list === undefined ||
    list.some((item) => item === value || (item.startsWith("!") ? item.slice(1) !== value : false));
  return matches(entry.os, process.platform) && matches(entry.cpu, process.arch);
}

describe("declared Node engines", () => {
  const manifest = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { engines: { node: string } };
  const lock = JSON.parse(readFileSync(join(root, "package-lock.json"), "utf8")) as {
    packages: Record<string, LockedPackage>;
  };
  const oldest = semver.minVersion(manifest.engines.node)?.version as string;

  it("every package installed on this platform accepts the oldest declared Node", () => {
    expect(oldest).toMatch(/^20\./);
    const refusing: string[] = [];
    for (const [path, entry] of Object.entries(lock.packages)) {
      if (path === "" || !installedHere(entry)) continue;
      const range = Array.isArray(entry.engines) ? undefined : entry.engines?.node;
      if (range !== undefined && !semver.satisfies(oldest, range))
        refusing.push(`${path.replace(/^.*node_modules\//, "")}@${entry.version}: node ${range}`);
    }
    expect(refusing, `these need a newer Node than ${manifest.engines.node}`).toEqual([]);
  });

  it("the README names the same minimum", () => {
    const readme = readFileSync(join(root, "README.md"), "utf8");
    expect(readme).toContain(`Node ${oldest.replace(/\.0$/, "")}`);
  });
});
