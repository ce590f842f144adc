/** `llm-twin ingest` options: flags, LLM_TWIN_* variables, defaults, and errors that name both. */
import { Command } from "commander";
import { describe, expect, it } from "vitest";
import { type IngestCommandConfig, parseIngestConfig, registerIngestCommand } from "../../src/cli/commands/ingest.js";

/** Parses `args` with the real command definition and returns the validated config (the action is not run). */
function configFor(args: string[], environment: Record<string, string> = {}): IngestCommandConfig {
  const saved = { ...process.env };
  Object.assign(process.env, environment);
  try {
    const program = new Command().exitOverride();
    registerIngestCommand(program);
    const command = program.commands.find((candidate) => candidate.name() === "ingest") as Command;
    command.action(() => undefined);
    program.parse(["node", "llm-twin", "ingest", "data/", ...args]);
    return parseIngestConfig(command.opts());
  } finally {
    for (const key of Object.keys(environment)) delete process.env[key];
    Object.assign(process.env, saved);
  }
}

describe("ingest options", () => {
  it("has the documented defaults", () => {
    expect(configFor([])).toMatchObject({
      store: "lancedb:./.llm-twin/store",
      embedder: "auto",
      recreate: false,
      json: false,
      artifacts: "./.llm-twin/artifacts",
      batchSize: 256,
      concurrency: 2,
      progress: "auto",
      progressIntervalMs: 2000,
    });
  });

  it("reads LLM_TWIN_* variables, and flags win over them", () => {
    const environment = {
      LLM_TWIN_STORE: "qdrant:http://localhost:6333",
      LLM_TWIN_EMBEDDER: "gguf:./model.gguf",
      LLM_TWIN_RECREATE: "1",
      LLM_TWIN_JSON: "false",
      LLM_TWIN_ARTIFACTS_DIR: "/tmp/artifacts",
      LLM_TWIN_INGEST_BATCH_SIZE: "64",
      LLM_TWIN_QUEUE_URL: "redis://localhost:6379",
    };
    expect(configFor([], environment)).toMatchObject({
      store: "qdrant:http://localhost:6333",
      embedder: "gguf:./model.gguf",
      recreate: true,
      json: false,
      artifacts: "/tmp/artifacts",
      batchSize: 64,
      queue: "redis://localhost:6379",
    });
    expect(configFor(["--store", "lancedb:./here", "--batch-size", "8", "--no-artifacts"], environment)).toMatchObject({
      store: "lancedb:./here",
      batchSize: 8,
      artifacts: false,
    });
  });

  it("fails fast naming the flag and the variable", () => {
    expect(() => configFor(["--concurrency", "0"])).toThrow(
      /--concurrency \(LLM_TWIN_INGEST_CONCURRENCY\): must be positive/,
    );
    expect(() => configFor(["--progress", "fancy"])).toThrow(/--progress \(LLM_TWIN_PROGRESS\)/);
    expect(() => configFor([], { LLM_TWIN_RECREATE: "maybe" })).toThrow(/--recreate \(LLM_TWIN_RECREATE\)/);
  });
});
