/**
 * The `llm-twin` command line. Each command lives in ./commands and registers itself here;
 * nothing runs at import time: `main` is called by bin/llm-twin.js.
 *
 * Command modules pull in heavy dependencies (llama.cpp bindings, LanceDB, the AWS SDK), so only
 * the module of the command being run is loaded; top-level help loads them all to list them.
 */
import { Command, CommanderError } from "commander";
import { isAppError } from "../errors/index.js";

type Register = (program: Command) => void;

const COMMANDS: Record<string, () => Promise<Register>> = {
  ingest: async () => (await import("./commands/ingest.js")).registerIngestCommand,
  artifacts: async () => (await import("./commands/artifacts.js")).registerArtifactsCommand,
  "serve-llm": async () => (await import("./commands/serve-llm.js")).registerServeLlmCommand,
  "serve-rag": async () => (await import("./commands/serve-rag.js")).registerServeRagCommand,
  serve: async () => (await import("./commands/serve.js")).registerServeCommand,
  traces: async () => (await import("./commands/traces.js")).registerTracesCommand,
  eval: async () => (await import("./commands/eval.js")).registerEvalCommand,
  deploy: async () => (await import("./commands/deploy.js")).registerDeployCommand,
  worker: async () => (await import("./commands/worker.js")).registerWorkerCommand,
  dataset: async () => (await import("./commands/dataset.js")).registerDatasetCommand,
  models: async () => (await import("./commands/models.js")).registerModelsCommand,
};

/** Builds the program with the commands named (all of them by default). */
export async function buildProgram(commandNames: readonly string[] = Object.keys(COMMANDS)): Promise<Command> {
  const program = new Command("llm-twin")
    .description("An LLM Twin: write in a person's voice, grounded in their own articles, posts and code.")
    .version("0.1.0")
    .showHelpAfterError("(llm-twin <command> --help lists the options)")
    .exitOverride();
  const registers = await Promise.all(commandNames.map((name) => COMMANDS[name]?.()));
  for (const register of registers) register?.(program);
  return program;
}

/** The command named on the command line, when it is one we know (options come after it). */
function requestedCommand(argv: readonly string[]): string | undefined {
  const first = argv[2];
  return first !== undefined && Object.hasOwn(COMMANDS, first) ? first : undefined;
}

export async function main(argv: readonly string[]): Promise<void> {
  const requested = requestedCommand(argv);
  try {
    const versionOnly = argv[2] === "--version" || argv[2] === "-V";
    const names = requested !== undefined ? [requested] : versionOnly ? [] : undefined;
    const program = await buildProgram(names);
    await program.parseAsync([...argv]);
  } catch (error) {
    if (error instanceof CommanderError) {
      process.exitCode = error.exitCode;
      return;
    }
    if (isAppError(error)) {
      process.stderr.write(`llm-twin: ${error.message} [${error.code}]\n`);
      process.exitCode = 1;
      return;
    }
    process.stderr.write(`llm-twin: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  }
}
