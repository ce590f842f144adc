/**
 * `--api-keys ""` or `LLM_TWIN_API_KEYS=` (or a list of nothing but commas and spaces) on
 * serve-llm, serve-rag and serve: whoever set it meant to turn authentication on, so the service
 * refuses to start with one line naming the flag and the variable, instead of serving without auth.
 * Empty entries inside a list (`a,,b`, a trailing comma) are ignored (src/config/settings.ts keyList).
 */
import { describe, expect, it } from "vitest";
import { spawnCli } from "../../src/testing/cli-process.js";

const REFUSED =
  /^llm-twin: invalid configuration: --api-keys \(LLM_TWIN_API_KEYS\): lists no key: give at least one key, or leave the flag and the variable unset for no authentication \(got "[ ,]*"\) \[configuration_error\]$/;

async function refusal(args: string[], env: Record<string, string> = {}): Promise<string> {
  const cli = spawnCli(args, env);
  expect(await cli.exited, cli.output()).toBe(1);
  const lines = cli.output().trim().split("\n");
  expect(lines, cli.output()).toHaveLength(1);
  return lines[0] ?? "";
}

describe("an empty API key list is a configuration error", () => {
  it("serve-llm --api-keys ''", async () => {
    expect(await refusal(["serve-llm", "--model", "missing.gguf", "--api-keys", ""])).toMatch(REFUSED);
  });

  it("serve-llm with LLM_TWIN_API_KEYS holding only commas and spaces", async () => {
    expect(await refusal(["serve-llm", "--model", "missing.gguf"], { LLM_TWIN_API_KEYS: " , ," })).toMatch(REFUSED);
  });

  it("serve-rag with LLM_TWIN_API_KEYS set but empty", async () => {
    expect(await refusal(["serve-rag", "--llm-url", "http://127.0.0.1:9"], { LLM_TWIN_API_KEYS: "" })).toMatch(REFUSED);
  });

  it("serve --api-keys ' '", async () => {
    expect(await refusal(["serve", "--api-keys", " "])).toMatch(REFUSED);
  });
});
