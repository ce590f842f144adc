import type { Command } from "commander";
import { AppError } from "../../errors/index.js";

// Placeholder until the issue that owns `deploy` lands; it says so instead of pretending to work.
export function registerDeployCommand(program: Command): void {
  program
    .command("deploy")
    .description("(not implemented yet)")
    .allowUnknownOption()
    .action(() => {
      throw new AppError("configuration_error", "'llm-twin deploy' is not implemented yet");
    });
}
