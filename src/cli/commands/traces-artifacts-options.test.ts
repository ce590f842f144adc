import { Command } from "commander";
import { describe, expect, it } from "vitest";
import { registerArtifactsCommand } from "./artifacts.js";
import { registerTracesCommand } from "./traces.js";

function commandsOf(command: Command): Command[] {
  return [command, ...command.commands.flatMap(commandsOf)];
}

describe("traces and artifacts options", () => {
  it("give every flag an LLM_TWIN_* environment variable", () => {
    const program = new Command();
    registerTracesCommand(program);
    registerArtifactsCommand(program);
    const flags = commandsOf(program).flatMap((command) =>
      command.options.map((option) => ({ command: command.name(), flag: option.long, env: option.envVar })),
    );
    expect(flags.length).toBeGreaterThan(5);
    for (const flag of flags) expect(flag.env, `${flag.command} ${flag.flag}`).toMatch(/^LLM_TWIN_/);
  });
});
