/**
 * `llm-twin traces` with no RAG service at --url: one line saying what to do (start one, or point
 * --url at it), exit code 1, no stack trace.
 */
import { describe, expect, it } from "vitest";
import { spawnCli } from "../../src/testing/cli-process.js";

describe("llm-twin traces without a RAG service", () => {
  it("says how to start one or where to point --url", async () => {
    const cli = spawnCli(["traces", "--url", "http://127.0.0.1:9"], { LLM_TWIN_RAG_URL: undefined });
    const code = await cli.exited;
    const output = cli.output();
    expect(code, output).toBe(1);
    expect(output.trim().split("\n"), output).toEqual([
      expect.stringMatching(
        /^llm-twin: cannot reach the RAG service at http:\/\/127\.0\.0\.1:9\/traces\?limit=20: .*; start it \(llm-twin serve or serve-rag\) or point --url \(LLM_TWIN_RAG_URL\) at it \[upstream_unavailable\]$/,
      ),
    ]);
  });
});

describe("llm-twin traces with a --url that is not an http(s) URL", () => {
  it("is a configuration error naming the flag and variable, before any request", async () => {
    const cli = spawnCli(["traces", "--url", "localhost:3000"], { LLM_TWIN_RAG_URL: undefined });
    expect(await cli.exited).toBe(1);
    expect(cli.output().trim().split("\n")).toEqual([
      'llm-twin: invalid configuration: --url (LLM_TWIN_RAG_URL): must be an http(s) URL of the RAG service (http://host:port) (got "localhost:3000") [configuration_error]',
    ]);
  });
});
