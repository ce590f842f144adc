/**
 * Every command of `llm-twin`: how to load it, and how the top-level help lists it. The listing is
 * plain data so `llm-twin --help` needs none of the command modules (nor their settings, zod and
 * the libraries they import); test/cli/command-table.test.ts checks it against the commands as
 * they register themselves, so it cannot drift from them.
 */
import type { Command } from "commander";

export type Register = (program: Command) => void;

export type CommandEntry = {
  /** The command's line in the top-level help: its name, `[options]` when it has any, its arguments. */
  term: string;
  /** Its description, as the command module gives it. */
  summary: string;
  load: () => Promise<Register>;
  /**
   * Work to start before the command's module (and its settings) loads, when the command is about
   * to run rather than print its help: `serve` forks node-llama-cpp's binary test first, so that the
   * test overlaps the loading of everything else (docs/benchmarks.md, start-up).
   */
  prestart?: () => Promise<void>;
};

export const COMMANDS: Record<string, CommandEntry> = {
  ingest: {
    term: "ingest [options] <path>",
    summary:
      "Read raw documents (a JSON array, JSON Lines, or a folder of such files), clean, chunk, embed and upsert them into the vector store, and write a dataset artifact",
    load: async () => (await import("./commands/ingest.js")).registerIngestCommand,
  },
  artifacts: {
    term: "artifacts",
    summary: "List and inspect the versioned dataset artifacts written by ingest",
    load: async () => (await import("./commands/artifacts.js")).registerArtifactsCommand,
  },
  "serve-llm": {
    term: "serve-llm [options]",
    summary: "Serve a GGUF model over the TGI, OpenAI and SageMaker APIs with continuous batching",
    load: async () => (await import("./commands/serve-llm.js")).registerServeLlmCommand,
  },
  "serve-rag": {
    term: "serve-rag [options]",
    summary: "Run the RAG service (business microservice) against a separate LLM service",
    load: async () => (await import("./commands/serve-rag.js")).registerServeRagCommand,
  },
  serve: {
    term: "serve [options]",
    summary: "Run everything in one process: RAG service + in-process LLM (llama.cpp) + embedded store",
    load: async () => (await import("./commands/serve.js")).registerServeCommand,
    prestart: async () => (await import("../llm/llama-cpp/shared-llama.js")).startLlama(),
  },
  traces: {
    term: "traces [options] [id]",
    summary:
      "Show the RAG service's latest request traces (or one trace with its spans, or the rated answers with --feedback)",
    load: async () => (await import("./commands/traces.js")).registerTracesCommand,
  },
  eval: {
    term: "eval",
    summary: "Evaluate the system (retrieval quality, generated answers, voice)",
    load: async () => (await import("./commands/eval.js")).registerEvalCommand,
  },
  deploy: {
    term: "deploy",
    summary: "deploy the LLM microservice to the cloud",
    load: async () => (await import("./commands/deploy.js")).registerDeployCommand,
  },
  worker: {
    term: "worker [options]",
    summary:
      "Process queued ingestion jobs (enqueued by `llm-twin ingest --queue`); several workers may run in parallel",
    load: async () => (await import("./commands/worker.js")).registerWorkerCommand,
  },
  dataset: {
    term: "dataset",
    summary: "Training datasets (instruct, preferences) as versioned dataset artifacts",
    load: async () => (await import("./commands/dataset.js")).registerDatasetCommand,
  },
  models: {
    term: "models",
    summary: "The model registry: base models and LoRA adapters, their versions, stages and lineage",
    load: async () => (await import("./commands/models.js")).registerModelsCommand,
  },
  "watermark-detect": {
    term: "watermark-detect [options]",
    summary:
      "Check whether a text carries serve-llm's watermark (TGI watermark: true): green fraction, z-score, verdict",
    load: async () => (await import("./commands/watermark-detect.js")).registerWatermarkDetectCommand,
  },
};

/**
 * Adds every command as a listing only (name, term, summary; no options, no action), for the
 * top-level help: the same lines as the registered commands give, without loading them.
 */
export function addCommandListing(program: Command): Command {
  for (const [name, entry] of Object.entries(COMMANDS)) program.command(name).description(entry.summary);
  const standard = program.createHelp();
  program.configureHelp({
    subcommandTerm: (command) => COMMANDS[command.name()]?.term ?? standard.subcommandTerm(command),
  });
  return program;
}
