/**
 * docker-compose.yml: `docker compose config -q` (or Debian's docker-compose v1) accepts it when a
 * Compose implementation is installed, and its structure is what docs/deploy.md describes.
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";

const root = resolve(import.meta.dirname, "../..");
const composeFile = join(root, "docker-compose.yml");

type Service = {
  image?: string;
  build?: { context: string; dockerfile: string };
  command?: string[];
  environment?: Record<string, string | null>;
  volumes?: string[];
  healthcheck?: { test: string[] };
  depends_on?: Record<string, { condition: string }>;
  restart?: string;
  profiles?: string[];
};
const compose = parse(readFileSync(composeFile, "utf8"), { merge: true }) as {
  services: Record<string, Service>;
  volumes: Record<string, unknown>;
};

function service(name: string): Service {
  const found = compose.services[name];
  if (!found) throw new Error(`no service ${name}`);
  return found;
}

function composeCli(): { command: string; prefix: string[] } | undefined {
  if (spawnSync("docker", ["compose", "version"], { encoding: "utf8" }).status === 0) {
    return { command: "docker", prefix: ["compose"] };
  }
  if (spawnSync("docker-compose", ["version"], { encoding: "utf8" }).status === 0) {
    return { command: "docker-compose", prefix: [] };
  }
  return undefined;
}

describe("docker-compose.yml", () => {
  const cli = composeCli();
  if (!cli) console.warn("neither `docker compose` nor `docker-compose` is installed: `config -q` not run");
  it.skipIf(!cli)("passes `docker compose config -q`, with and without the queue profile", () => {
    if (!cli) return;
    for (const profile of [[], ["--profile", "queue"]]) {
      const result = spawnSync(cli.command, [...cli.prefix, "-f", composeFile, ...profile, "config", "-q"], {
        encoding: "utf8",
        cwd: root,
      });
      expect(result.stderr.trim(), profile.join(" ")).toBe("");
      expect(result.status).toBe(0);
    }
  });

  it("runs Qdrant from a pinned official image with a storage volume and a readiness check", () => {
    const qdrant = service("qdrant");
    expect(qdrant.image).toMatch(/^qdrant\/qdrant:v\d+\.\d+\.\d+$/);
    expect(qdrant.volumes).toContain("qdrant-storage:/qdrant/storage");
    expect(qdrant.healthcheck?.test.join(" ")).toContain("/readyz");
  });

  it("puts an API key on Qdrant and gives the same key to every client", () => {
    const key = service("qdrant").environment?.QDRANT__SERVICE__API_KEY;
    expect(key).toMatch(/^\$\{LLM_TWIN_QDRANT_API_KEY:-.+\}$/);
    for (const name of ["rag", "ingest", "worker", "enqueue"]) {
      expect(service(name).environment?.LLM_TWIN_QDRANT_API_KEY, name).toBe(key);
    }
  });

  it("builds the LLM service from llm.Dockerfile, started as SageMaker would (`serve`)", () => {
    const llm = service("llm");
    expect(llm.build?.dockerfile).toBe("deploy/docker/llm.Dockerfile");
    expect(llm.command).toEqual(["serve"]);
    expect(llm.volumes?.some((volume) => volume.endsWith(":/opt/ml/model:ro"))).toBe(true);
    expect(llm.healthcheck?.test.join(" ")).toContain("/ping");
  });

  it("points the RAG service at Qdrant and the LLM service, after a successful ingestion", () => {
    const rag = service("rag");
    expect(rag.environment?.LLM_TWIN_STORE).toBe("qdrant:http://qdrant:6333");
    // Passed from the shell only when set there: set but empty, serve-rag refuses to start.
    expect(rag.environment).toHaveProperty("LLM_TWIN_API_KEYS", null);
    expect(rag.command?.slice(0, 3)).toEqual(["serve-rag", "--llm-url", "http://llm:8080"]);
    expect(rag.depends_on).toEqual({
      qdrant: { condition: "service_healthy" },
      llm: { condition: "service_healthy" },
      ingest: { condition: "service_completed_successfully" },
    });
    expect(rag.healthcheck?.test.join(" ")).toContain("/ready");
  });

  it("runs ingestion as a one-shot job of the RAG image once Qdrant is healthy", () => {
    const ingest = service("ingest");
    expect(ingest.restart).toBe("no");
    expect(ingest.image).toBe(service("rag").image);
    expect(ingest.command?.[0]).toBe("ingest");
    expect(ingest.environment?.LLM_TWIN_STORE).toBe("qdrant:http://qdrant:6333");
    expect(ingest.depends_on?.qdrant).toEqual({ condition: "service_healthy" });
  });

  it("keeps Redis, the workers and the enqueue job behind the queue profile", () => {
    for (const name of ["redis", "worker", "enqueue"]) expect(service(name).profiles, name).toEqual(["queue"]);
    expect(service("worker").command?.slice(0, 3)).toEqual(["worker", "--queue", "redis://redis:6379"]);
    expect(service("enqueue").command).toContain("--queue");
    expect(service("redis").command).toContain("noeviction");
  });

  it("declares every named volume it mounts", () => {
    for (const [name, definition] of Object.entries(compose.services)) {
      for (const volume of definition.volumes ?? []) {
        const source = volume.split(":")[0] ?? "";
        if (source.startsWith(".") || source.startsWith("/") || source.startsWith("$")) continue;
        expect(Object.keys(compose.volumes), `${name} mounts ${source}`).toContain(source);
      }
    }
  });
});
