/**
 * The `llm-twin` command line. Each command lives in ./commands and registers itself here;
 * nothing runs at import time: `main` is called by bin/llm-twin.js.
 *
 * Command modules pull in heavy dependencies (llama.cpp bindings, LanceDB, the AWS SDK), so only
 * the module of the command being run is loaded; the top-level help lists the commands from
 * ./command-table.ts without loading any. Commander itself loads once a command's prestart has
 * begun: `serve` forks node-llama-cpp's binary test first, and the test's wait absorbs the rest.
 */
import type { Command } from "commander";
import { isAppError } from "../errors/index.js";
import { addCommandListing, COMMANDS } from "./command-table.js";

async function newProgram(): Promise<Command> {
  const { Command } = await import("commander");
  return new Command("llm-twin")
    .description("An LLM Twin: write in a person's voice, grounded in their own articles, posts and code.")
    .version("0.1.0")
    .showHelpAfterError("(llm-twin <command> --help lists the options)")
    .exitOverride();
}

/** Builds the program with the commands named (all of them by default). */
export async function buildProgram(commandNames: readonly string[] = Object.keys(COMMANDS)): Promise<Command> {
  const program = await newProgram();
  const registers = await Promise.all(commandNames.map((name) => COMMANDS[name]?.load()));
  for (const register of registers) register?.(program);
  return program;
}

/** The program as the top-level help shows it: every command listed, none loaded. */
export async function buildListingProgram(): Promise<Command> {
  return addCommandListing(await newProgram());
}

/** Only the top-level help is asked for: `llm-twin`, `llm-twin --help`, `-h` or `help`. */
function topLevelHelpOnly(argv: readonly string[]): boolean {
  return argv.length === 2 || (argv.length === 3 && ["--help", "-h", "help"].includes(argv[2] ?? ""));
}

/** `--help` or `-h` anywhere on the command line (`<command> --help` prints the help, runs nothing). */
function asksForHelp(argv: readonly string[]): boolean {
  return argv.slice(2).some((arg) => arg === "--help" || arg === "-h");
}

/** The command named on the command line, when it is one we know (options come after it). */
function requestedCommand(argv: readonly string[]): string | undefined {
  const first = argv[2];
  return first !== undefined && Object.hasOwn(COMMANDS, first) ? first : undefined;
}

export async function main(argv: readonly string[]): Promise<void> {
  const requested = requestedCommand(argv);
  let prestarted = false;
  try {
    const versionOnly = argv[2] === "--version" || argv[2] === "-V";
    const names = requested !== undefined ? [requested] : versionOnly ? [] : undefined;
    const prestart = requested === undefined || asksForHelp(argv) ? undefined : COMMANDS[requested]?.prestart;
    if (prestart !== undefined) {
      prestarted = true;
      await prestart();
    }
    const program = topLevelHelpOnly(argv) ? await buildListingProgram() : await buildProgram(names);
    await program.parseAsync([...argv]);
  } catch (error) {
    const { CommanderError } = await import("commander");
    if (error instanceof CommanderError) {
      process.exitCode = error.exitCode;
      // A command line refused before the command ran: nothing to release, and nothing should wait
      // for what its prestart began (node-llama-cpp's binary test and load, ~1 s).
      if (prestarted) process.exit();
      return;
    }
    if (isAppError(error)) {
      // One line, whatever the message quotes (a JSON parser's excerpt of a file may hold newlines).
      process.stderr.write(`llm-twin: ${error.message.replace(/\s*\n\s*/g, " ")} [${error.code}]\n`);
      process.exitCode = 1;
      return;
    }
    process.stderr.write(`llm-twin: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  }
}
