import type { Command } from "commander";
import { AppError } from "../../errors/index.js";

// Placeholder until the issue that owns `eval` lands; it says so instead of pretending to work.
export function registerEvalCommand(program: Command): void {
  program
    .command("eval")
    .description("(not implemented yet)")
    .allowUnknownOption()
    .action(() => {
      throw new AppError("configuration_error", "'llm-twin eval' is not implemented yet");
    });
}
