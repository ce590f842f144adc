import type { Command } from "commander";
import { AppError } from "../../errors/index.js";

// Placeholder until the issue that owns `ingest` lands; it says so instead of pretending to work.
export function registerIngestCommand(program: Command): void {
  program
    .command("ingest")
    .description("(not implemented yet)")
    .allowUnknownOption()
    .action(() => {
      throw new AppError("configuration_error", "'llm-twin ingest' is not implemented yet");
    });
}
