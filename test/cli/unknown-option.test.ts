/**
 * A mistyped flag or command: the error, commander's suggestion and where the options are listed,
 * not the whole --help (150 lines for serve-llm) that pushes the error off the screen.
 */
import { describe, expect, it } from "vitest";
import { spawnCli } from "../../src/testing/cli-process.js";

describe("a mistyped flag or command", () => {
  it("is a short message with the suggestion and how to list the options", async () => {
    const cli = spawnCli(["serve-llm", "--paralel", "2"]);
    expect(await cli.exited).toBe(1);
    const lines = cli.output().trim().split("\n");
    expect(lines, cli.output()).toEqual([
      "error: unknown option '--paralel'",
      "(Did you mean --parallel?)",
      "(llm-twin <command> --help lists the options)",
    ]);
  });

  it("an unknown command too", async () => {
    const cli = spawnCli(["serv"]);
    expect(await cli.exited).toBe(1);
    expect(cli.output().trim().split("\n")).toEqual([
      "error: unknown command 'serv'",
      "(Did you mean serve?)",
      "(llm-twin <command> --help lists the options)",
    ]);
  });
});
