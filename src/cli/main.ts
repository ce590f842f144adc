/**
 * The `llm-twin` command line. Each command lives in ./commands and registers itself here;
 * nothing runs at import time: `main` is called by bin/llm-twin.js.
 */
import { Command, CommanderError } from "commander";
import { isAppError } from "../errors/index.js";
import { registerArtifactsCommand } from "./commands/artifacts.js";
import { registerDeployCommand } from "./commands/deploy.js";
import { registerEvalCommand } from "./commands/eval.js";
import { registerIngestCommand } from "./commands/ingest.js";
import { registerServeCommand } from "./commands/serve.js";
import { registerServeLlmCommand } from "./commands/serve-llm.js";
import { registerServeRagCommand } from "./commands/serve-rag.js";
import { registerTracesCommand } from "./commands/traces.js";
import { registerWorkerCommand } from "./commands/worker.js";

export function buildProgram(): Command {
  const program = new Command("llm-twin")
    .description("An LLM Twin: write in a person's voice, grounded in their own articles, posts and code.")
    .version("0.1.0")
    .showHelpAfterError()
    .exitOverride();
  registerIngestCommand(program);
  registerArtifactsCommand(program);
  registerServeLlmCommand(program);
  registerServeRagCommand(program);
  registerServeCommand(program);
  registerTracesCommand(program);
  registerEvalCommand(program);
  registerDeployCommand(program);
  registerWorkerCommand(program);
  return program;
}

export async function main(argv: readonly string[]): Promise<void> {
  const program = buildProgram();
  try {
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
