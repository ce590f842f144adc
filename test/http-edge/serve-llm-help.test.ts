/** `serve-llm --help` says what the default bind exposes and offers API keys; the config reads them. */
import { describe, expect, it } from "vitest";
import { buildProgram } from "../../src/cli/main.js";
import { parseLlmServerConfig } from "../../src/llm-server/config.js";

describe("serve-llm flags", () => {
  it("--help explains the 0.0.0.0 default and --api-keys", async () => {
    const program = await buildProgram(["serve-llm"]);
    const command = program.commands.find((candidate) => candidate.name() === "serve-llm");
    const help = (command?.helpInformation() ?? "").replace(/\s+/g, " ");
    expect(help).toContain("every network interface");
    expect(help).toMatch(/--api-keys <keys>.*LLM_TWIN_API_KEYS/);
    for (const flag of [
      "--auth-failure-limit",
      "--headers-timeout-ms",
      "--receive-timeout-ms",
      "--keep-alive-timeout-ms",
    ]) {
      expect(help).toContain(flag);
    }
  });

  it("parses keys and limits, naming the flag of a bad value", () => {
    const config = parseLlmServerConfig({ model: "m.gguf", apiKeys: " a, b ,,", receiveTimeoutMs: "500" });
    expect(config.apiKeys).toEqual(["a", "b"]);
    expect(config.receiveTimeoutMs).toBe(500);
    expect(config.authFailureLimit).toBe(10);
    expect(() => parseLlmServerConfig({ model: "m.gguf", headersTimeoutMs: "soon" })).toThrow(/--headers-timeout-ms/);
  });
});
