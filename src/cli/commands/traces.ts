import type { Command } from "commander";
import { AppError } from "../../errors/index.js";

// Placeholder until the issue that owns `traces` lands; it says so instead of pretending to work.
export function registerTracesCommand(program: Command): void {
  program
    .command("traces")
    .description("(not implemented yet)")
    .allowUnknownOption()
    .action(() => {
      throw new AppError("configuration_error", "'llm-twin traces' is not implemented yet");
    });
}
