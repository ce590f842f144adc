/** The HTTP embedder's settings: one block on every command that takes --embedder, defaults as the adapter has them. */
import type { Command } from "commander";
import { describe, expect, it } from "vitest";
import { buildProgram } from "../../src/cli/main.js";
import { defaultText, parseSettingValues } from "../../src/config/settings.js";
import { DEFAULT_HTTP_EMBEDDER_RETRIES, DEFAULT_HTTP_EMBEDDER_TIMEOUT_MS } from "../../src/embedding/http/index.js";
import { HTTP_EMBEDDER_SETTINGS, httpEmbedderOptions } from "../../src/embedding/http/settings.js";

function find(program: Command, path: string[]): Command {
  let command = program;
  for (const name of path) {
    const next = command.commands.find((child) => child.name() === name);
    if (next === undefined) throw new Error(`no command ${path.join(" ")}`);
    command = next;
  }
  return command;
}

describe("HTTP embedder settings", () => {
  it("document the adapter's defaults", () => {
    expect(HTTP_EMBEDDER_SETTINGS.map(defaultText)).toEqual([
      String(DEFAULT_HTTP_EMBEDDER_TIMEOUT_MS),
      String(DEFAULT_HTTP_EMBEDDER_RETRIES),
    ]);
    const values = { embedderRequestTimeoutMs: "800", embedderRetries: "0" };
    expect(httpEmbedderOptions(parseSettingValues(HTTP_EMBEDDER_SETTINGS, values))).toEqual({
      timeoutMs: 800,
      retries: 0,
    });
    expect(() => parseSettingValues(HTTP_EMBEDDER_SETTINGS, { embedderRequestTimeoutMs: "0" })).toThrow(
      /--embedder-request-timeout-ms \(LLM_TWIN_EMBEDDER_REQUEST_TIMEOUT_MS\)/,
    );
  });

  it("are flags of every command that takes --embedder", async () => {
    const program = await buildProgram();
    const commands = [["ingest"], ["worker"], ["serve"], ["serve-rag"], ["eval", "retrieval"], ["eval", "generation"]];
    for (const path of commands) {
      const flags = find(program, path).options.map((option) => option.long);
      expect(flags, path.join(" ")).toContain("--embedder");
      expect(flags, path.join(" ")).toEqual(
        expect.arrayContaining(["--embedder-request-timeout-ms", "--embedder-retries"]),
      );
    }
  });
});
