import type { Command } from "commander";
import { AppError } from "../../errors/index.js";

// Placeholder until the issue that owns `serve-llm` lands; it says so instead of pretending to work.
export function registerServeLlmCommand(program: Command): void {
  program
    .command("serve-llm")
    .description("(not implemented yet)")
    .allowUnknownOption()
    .action(() => {
      throw new AppError("configuration_error", "'llm-twin serve-llm' is not implemented yet");
    });
}
