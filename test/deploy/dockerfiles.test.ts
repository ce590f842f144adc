/**
 * deploy/docker: the Dockerfiles keep their invariants (multi-stage, pinned base, non-root, ports,
 * tini entrypoint, health checks, pruned llama.cpp variants), and the LLM entrypoint maps
 * SageMaker's `serve` to serve-llm with the model it finds (run for real with a stand-in `node`).
 */
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const root = resolve(import.meta.dirname, "../..");

type Instruction = { keyword: string; argument: string };

/** Instructions of a Dockerfile: comments dropped, continuation lines joined. */
function parseDockerfile(text: string): Instruction[] {
  const instructions: Instruction[] = [];
  let pending = "";
  for (const line of text.split("\n")) {
    if (/^\s*#/.test(line)) continue;
    const continued = line.endsWith("\\");
    pending += `${continued ? line.slice(0, -1) : line} `;
    if (continued) continue;
    const match = /^\s*(\w+)\s+(.*?)\s*$/.exec(pending);
    if (match?.[1] && match[2] !== undefined)
      instructions.push({ keyword: match[1].toUpperCase(), argument: match[2] });
    pending = "";
  }
  return instructions;
}

/** Instructions of the last stage (what the image is made of). */
function finalStage(instructions: Instruction[]): Instruction[] {
  const lastFrom = instructions.map((instruction) => instruction.keyword).lastIndexOf("FROM");
  return instructions.slice(lastFrom);
}

function resolveImage(instructions: Instruction[], reference: string): string {
  return reference.replace(/^\$\{?(\w+)\}?/, (_, name: string) => {
    const argument = instructions.find(
      (instruction) => instruction.keyword === "ARG" && instruction.argument.startsWith(`${name}=`),
    );
    return argument ? argument.argument.slice(name.length + 1) : `<unset ${name}>`;
  });
}

const images = [
  { file: "deploy/docker/llm.Dockerfile", port: "8080", health: "/ping" },
  { file: "deploy/docker/rag.Dockerfile", port: "3000", health: "/health" },
];

describe.each(images)("$file", ({ file, port, health }) => {
  const instructions = parseDockerfile(readFileSync(join(root, file), "utf8"));
  const stage = finalStage(instructions);

  it("is multi-stage with every base image pinned to an exact version", () => {
    const froms = instructions.filter((instruction) => instruction.keyword === "FROM");
    expect(froms.length).toBeGreaterThanOrEqual(3);
    for (const from of froms) {
      const image = resolveImage(instructions, from.argument.split(/\s+/)[0] ?? "");
      expect(image).toMatch(/^node:\d+\.\d+\.\d+-bookworm-slim(@sha256:[0-9a-f]{64})?$/);
    }
  });

  it("builds dist/ with npm run build and ships production dependencies only", () => {
    expect(instructions.some(({ keyword, argument }) => keyword === "RUN" && argument.includes("npm run build"))).toBe(
      true,
    );
    expect(
      instructions.some(({ keyword, argument }) => keyword === "RUN" && argument.includes("npm ci --omit=dev")),
    ).toBe(true);
    const copies = stage.filter(({ keyword }) => keyword === "COPY").map(({ argument }) => argument);
    expect(copies.some((copy) => copy.includes("--from=deps") && copy.includes("node_modules"))).toBe(true);
    expect(copies.some((copy) => copy.includes("--from=build") && copy.includes("dist"))).toBe(true);
    for (const copy of copies.filter((argument) => !argument.includes("--from="))) {
      const source = copy.split(/\s+/).filter((part) => !part.startsWith("--"))[0] ?? "";
      expect(existsSync(join(root, source)), `COPY source ${source}`).toBe(true);
    }
  });

  it("keeps only the linux-x64 CPU build of node-llama-cpp", () => {
    const prune = instructions.find(
      ({ keyword, argument }) => keyword === "RUN" && argument.includes("@node-llama-cpp"),
    );
    expect(prune?.argument).toMatch(/! -name linux-x64 -exec rm -rf/);
    expect(prune?.argument).toContain("gitRelease.bundle");
  });

  it("runs as a numeric non-root user, exposes its port, checks its health, starts under tini", () => {
    const users = stage.filter(({ keyword }) => keyword === "USER").map(({ argument }) => argument);
    expect(users.length).toBeGreaterThan(0);
    expect(users.at(-1)).toMatch(/^[1-9]\d*(:\d+)?$/);
    expect(stage.filter(({ keyword }) => keyword === "EXPOSE").map(({ argument }) => argument)).toEqual([port]);
    const healthcheck = stage.find(({ keyword }) => keyword === "HEALTHCHECK")?.argument ?? "";
    expect(healthcheck).toContain(health);
    const entrypoint = JSON.parse(stage.find(({ keyword }) => keyword === "ENTRYPOINT")?.argument ?? "[]") as string[];
    expect(entrypoint.slice(0, 2)).toEqual(["/usr/bin/tini", "--"]);
    expect(
      stage.some(({ keyword, argument }) => keyword === "RUN" && /apt-get install .*tini=\S+/.test(argument)),
    ).toBe(true);
  });
});

describe(".dockerignore", () => {
  it("excludes everything but what the images copy", () => {
    const lines = readFileSync(join(root, ".dockerignore"), "utf8").split("\n");
    expect(lines[lines.findIndex((line) => line.trim() && !line.startsWith("#"))]).toBe("**");
    for (const needed of ["!package.json", "!package-lock.json", "!src/**", "!bin/**", "!deploy/docker/**"]) {
      expect(lines).toContain(needed);
    }
    expect(lines).toContain("**/node_modules");
    // src/cli/commands/serve.ts imports src/testing/shared-datasets.ts: excluding it would break `npm run build`
    expect(lines.filter((line) => line.startsWith("src/testing"))).toEqual([]);
  });
});

describe("deploy/docker/llm-entrypoint.sh (SageMaker `serve`)", () => {
  const work = mkdtempSync(join(tmpdir(), "llm-twin-entrypoint-"));
  afterAll(() => rmSync(work, { recursive: true, force: true }));
  // A stand-in `node` that prints the arguments it was exec'd with, one per line.
  const fakeBin = join(work, "bin");
  mkdirSync(fakeBin);
  writeFileSync(join(fakeBin, "node"), '#!/bin/sh\nfor a in "$@"; do echo "$a"; done\n');
  chmodSync(join(fakeBin, "node"), 0o755);

  function run(args: string[], env: Record<string, string>) {
    const result = spawnSync("sh", [join(root, "deploy/docker/llm-entrypoint.sh"), ...args], {
      encoding: "utf8",
      env: { PATH: `${fakeBin}:/usr/bin:/bin`, LLM_TWIN_BIN: "/app/bin/llm-twin.js", ...env },
    });
    return { status: result.status, lines: result.stdout.trim().split("\n"), stderr: result.stderr };
  }

  it("serve → serve-llm on 0.0.0.0:8080 with the first *.gguf under the model dir", () => {
    const modelDir = join(work, "model");
    mkdirSync(join(modelDir, "sub"), { recursive: true });
    writeFileSync(join(modelDir, "sub", "b.gguf"), "");
    writeFileSync(join(modelDir, "a-00001-of-00002.gguf"), "");
    writeFileSync(join(modelDir, "config.json"), "{}");
    const { status, lines } = run(["serve"], { LLM_TWIN_MODEL_DIR: modelDir });
    expect(status).toBe(0);
    expect(lines).toEqual([
      "/app/bin/llm-twin.js",
      "serve-llm",
      "--host",
      "0.0.0.0",
      "--port",
      "8080",
      "--model",
      join(modelDir, "a-00001-of-00002.gguf"),
    ]);
  });

  it("LLM_TWIN_MODEL wins, SAGEMAKER_BIND_TO_PORT is honoured, extra flags pass through", () => {
    const { lines } = run(["serve", "--parallel", "2"], {
      LLM_TWIN_MODEL: "hf:someone/twin:Q4_K_M",
      SAGEMAKER_BIND_TO_PORT: "9090",
      LLM_TWIN_MODEL_DIR: join(work, "absent"),
    });
    expect(lines.slice(1)).toEqual([
      "serve-llm",
      "--host",
      "0.0.0.0",
      "--port",
      "9090",
      "--model",
      "hf:someone/twin:Q4_K_M",
      "--parallel",
      "2",
    ]);
  });

  it("no model anywhere → exit 64 with a message naming the directory", () => {
    const { status, stderr } = run(["serve"], { LLM_TWIN_MODEL_DIR: join(work, "absent") });
    expect(status).toBe(64);
    expect(stderr).toContain(join(work, "absent"));
  });

  it("no argument means serve; other llm-twin commands and programs pass through", () => {
    expect(run([], { LLM_TWIN_MODEL: "/m.gguf" }).lines[1]).toBe("serve-llm");
    expect(run(["ingest", "data/"], {}).lines).toEqual(["/app/bin/llm-twin.js", "ingest", "data/"]);
    expect(run(["echo", "hello"], {}).lines).toEqual(["hello"]);
  });
});

describe("shell scripts", () => {
  const shellcheck = spawnSync("shellcheck", ["--version"], { encoding: "utf8" }).status === 0;
  if (!shellcheck)
    console.warn("shellcheck is not installed (apt-get install -y shellcheck): shell scripts not linted");
  it.skipIf(!shellcheck)("pass shellcheck: the LLM entrypoint, the image rehearsal and Qdrant's start script", () => {
    const work = mkdtempSync(join(tmpdir(), "llm-twin-shellcheck-"));
    try {
      const qdrant = readFileSync(join(root, "deploy/k8s/base/qdrant.yaml"), "utf8");
      const start = /start\.sh: \|\n((?: {4}.*\n|\n)+)/.exec(qdrant)?.[1]?.replace(/^ {4}/gm, "") ?? "";
      expect(start).toContain("--bootstrap");
      writeFileSync(join(work, "qdrant-start.sh"), start);
      const result = spawnSync(
        "shellcheck",
        [
          join(root, "deploy/docker/llm-entrypoint.sh"),
          join(root, "deploy/scripts/rehearse-images.sh"),
          join(work, "qdrant-start.sh"),
        ],
        { encoding: "utf8" },
      );
      expect(result.stdout).toBe("");
      expect(result.status).toBe(0);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });
});
