import type { Command } from "commander";
import { AppError } from "../../errors/index.js";

// Placeholder until the issue that owns `artifacts` lands; it says so instead of pretending to work.
export function registerArtifactsCommand(program: Command): void {
  program
    .command("artifacts")
    .description("(not implemented yet)")
    .allowUnknownOption()
    .action(() => {
      throw new AppError("configuration_error", "'llm-twin artifacts' is not implemented yet");
    });
}
