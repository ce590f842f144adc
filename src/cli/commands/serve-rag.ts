import type { Command } from "commander";
import { AppError } from "../../errors/index.js";

// Placeholder until the issue that owns `serve-rag` lands; it says so instead of pretending to work.
export function registerServeRagCommand(program: Command): void {
  program
    .command("serve-rag")
    .description("(not implemented yet)")
    .allowUnknownOption()
    .action(() => {
      throw new AppError("configuration_error", "'llm-twin serve-rag' is not implemented yet");
    });
}
