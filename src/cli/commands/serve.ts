import type { Command } from "commander";
import { AppError } from "../../errors/index.js";

// Placeholder until the issue that owns `serve` lands; it says so instead of pretending to work.
export function registerServeCommand(program: Command): void {
  program
    .command("serve")
    .description("(not implemented yet)")
    .allowUnknownOption()
    .action(() => {
      throw new AppError("configuration_error", "'llm-twin serve' is not implemented yet");
    });
}
