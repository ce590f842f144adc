import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parseLlmServerConfig, parseLoraSpec, sageMakerModelFile } from "./config.js";

describe("parseLoraSpec (--lora, LLM_TWIN_LORA)", () => {
  it("reads <name>=<path.gguf>[:scale] and refuses anything else with the expected form", () => {
    expect(parseLoraSpec("alice=adapters/alice.gguf")).toEqual({
      name: "alice",
      path: "adapters/alice.gguf",
      scale: 1,
    });
    expect(parseLoraSpec("bob=/m/bob.gguf:0.5")).toEqual({ name: "bob", path: "/m/bob.gguf", scale: 0.5 });
    expect(() => parseLoraSpec("no-path")).toThrow(/<name>=<path.gguf>\[:scale\]/);
    expect(() => parseLlmServerConfig({ model: "m.gguf", loras: ["a=x.gguf", "a=y.gguf"] })).toThrow(/twice/);
    expect(parseLlmServerConfig({ model: "m.gguf", loras: ["a=x.gguf:0"] }).loras).toEqual([
      { name: "a", path: "x.gguf", scale: 0 },
    ]);
  });
});

describe("parseLoraSpec: the scale", () => {
  it("reads the usual number forms and keeps registry references whole", () => {
    expect(parseLoraSpec("a=x.gguf:.5").scale).toBe(0.5);
    expect(parseLoraSpec("a=x.gguf:-1").scale).toBe(-1);
    expect(parseLoraSpec("a=x.gguf:2.").scale).toBe(2);
    expect(parseLoraSpec("a=x.gguf:1e-1")).toEqual({ name: "a", path: "x.gguf", scale: 0.1 });
    expect(parseLoraSpec("a=registry:twin@production")).toEqual({
      name: "a",
      path: "registry:twin@production",
      scale: 1,
    });
    expect(parseLoraSpec("a=registry:twin@2:0.5")).toEqual({ name: "a", path: "registry:twin@2", scale: 0.5 });
  });

  it("refuses a scale that is not a finite number instead of reading it as part of the path", () => {
    for (const spec of ["a=x.gguf:abc", "a=x.gguf:", "a=x.GGUF:0.5x", "a=x.gguf:1e999"]) {
      expect(() => parseLoraSpec(spec), spec).toThrow(
        /the scale .* is not a (finite )?number; give <name>=<path.gguf>\[:scale\]/,
      );
    }
    expect(() => parseLoraSpec("a=:0.5")).toThrow(/<name>=<path.gguf>\[:scale\]/);
  });
});

describe("parseLlmServerConfig", () => {
  it("coerces flag strings and applies the documented defaults", () => {
    const config = parseLlmServerConfig({ model: "m.gguf", port: "9000", parallel: "2", threads: undefined });
    expect(config).toMatchObject({
      model: "m.gguf",
      host: "0.0.0.0",
      port: 9000,
      parallel: 2,
      batchSize: 512,
      requestTimeoutSeconds: 60,
      bodyLimitBytes: 1_048_576,
      gracePeriodSeconds: 25,
    });
    // Unset threads are decided once llama.cpp is loaded (runtime.ts: it depends on the binary).
    expect(config.threads).toBeUndefined();
    expect(parseLlmServerConfig({ model: "m.gguf", threads: "3" }).threads).toBe(3);
    expect(parseLlmServerConfig({ model: "m.gguf", threadsBatch: "2" }).threadsBatch).toBe(2);
    expect(() => parseLlmServerConfig({ model: "m.gguf", threadsBatch: "0" })).toThrow(/--threads-batch/);
    // Unset engine: native when the addon is built, decided by the engine (engine.ts).
    expect(config.engine).toBeUndefined();
    expect(parseLlmServerConfig({ model: "m.gguf", engine: "node-llama-cpp" }).engine).toBe("node-llama-cpp");
  });

  it("names the flag at fault", () => {
    expect(() => parseLlmServerConfig({ model: "m.gguf", parallel: "zero" })).toThrow(
      /--parallel \(LLM_TWIN_PARALLEL\)/,
    );
    expect(() => parseLlmServerConfig({ model: "m.gguf", requestTimeoutSeconds: "-1" })).toThrow(
      /--request-timeout \(LLM_TWIN_REQUEST_TIMEOUT\)/,
    );
    expect(() => parseLlmServerConfig({ model: "m.gguf", port: "99999" })).toThrow(
      /--port \(LLM_TWIN_PORT or SAGEMAKER_BIND_TO_PORT\)/,
    );
    expect(() => parseLlmServerConfig({ model: "m.gguf", engine: "llama-server" })).toThrow(/--engine/);
    expect(() => parseLlmServerConfig({ model: "m.gguf", gracePeriodSeconds: "30" })).toThrow(/--grace-period/);
    expect(() => parseLlmServerConfig({ model: "m.gguf", maxInputTokens: "100", maxTotalTokens: "100" })).toThrow(
      /--max-input-tokens \/ LLM_TWIN_MAX_INPUT_TOKENS \(100\) must be less than --max-total-tokens \/ LLM_TWIN_MAX_TOTAL_TOKENS \(100\)/,
    );
  });

  it("finds a .gguf in the SageMaker model directory", () => {
    const directory = mkdtempSync(path.join(tmpdir(), "opt-ml-model-"));
    expect(sageMakerModelFile(directory)).toBeUndefined();
    writeFileSync(path.join(directory, "b.gguf"), "");
    writeFileSync(path.join(directory, "a.gguf"), "");
    expect(sageMakerModelFile(directory)).toBe(path.join(directory, "a.gguf"));
  });
});
