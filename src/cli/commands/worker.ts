import type { Command } from "commander";
import { AppError } from "../../errors/index.js";

// Placeholder until the issue that owns `worker` lands; it says so instead of pretending to work.
export function registerWorkerCommand(program: Command): void {
  program
    .command("worker")
    .description("(not implemented yet)")
    .allowUnknownOption()
    .action(() => {
      throw new AppError("configuration_error", "'llm-twin worker' is not implemented yet");
    });
}
