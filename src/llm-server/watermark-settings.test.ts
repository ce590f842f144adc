import { describe, expect, it } from "vitest";
import { valuesFromOptions } from "../config/settings.js";
import { parseLlmServerConfig } from "./config.js";
import { SERVE_LLM_SETTINGS } from "./settings.js";

const config = (options: Record<string, unknown>, env: NodeJS.ProcessEnv = {}) =>
  parseLlmServerConfig({ ...valuesFromOptions(SERVE_LLM_SETTINGS, options, env), model: "m.gguf" });

describe("--watermark-gamma and --watermark-delta", () => {
  it("default to TGI's 0.5 and 2", () => {
    expect(config({})).toMatchObject({ watermarkGamma: 0.5, watermarkDelta: 2 });
  });

  it("read TGI's WATERMARK_GAMMA / WATERMARK_DELTA when neither the flag nor LLM_TWIN_* is set", () => {
    const env = { WATERMARK_GAMMA: "0.25", WATERMARK_DELTA: "1.5" };
    expect(config({}, env)).toMatchObject({ watermarkGamma: 0.25, watermarkDelta: 1.5 });
    expect(config({ watermarkGamma: "0.3", watermarkDelta: "4" }, env)).toMatchObject({
      watermarkGamma: 0.3,
      watermarkDelta: 4,
    });
  });

  it("refuse values out of bounds, naming the flag and both variables", () => {
    for (const gamma of ["0", "1", "-0.1", "x"]) {
      expect(() => config({ watermarkGamma: gamma }), gamma).toThrow(
        /--watermark-gamma \(LLM_TWIN_WATERMARK_GAMMA or WATERMARK_GAMMA\)/,
      );
    }
    expect(() => config({ watermarkDelta: "-1" })).toThrow(
      /--watermark-delta \(LLM_TWIN_WATERMARK_DELTA or WATERMARK_DELTA\)/,
    );
    expect(config({ watermarkDelta: "0" }).watermarkDelta).toBe(0);
  });
});
