import { describe, expect, it } from "vitest";
import { defaultBackend, describeEngineForLog } from "./engine.js";
import { nativeAddonBuilt } from "./native/addon.js";

describe("engine backend selection", () => {
  it("defaults to native exactly when the addon is built", () => {
    expect(defaultBackend()).toBe(nativeAddonBuilt() ? "native" : "node-llama-cpp");
  });

  it("says in the start-up log why node-llama-cpp runs when it was not asked for", () => {
    expect(describeEngineForLog("native", undefined)).toMatch(/native generation loop/);
    expect(describeEngineForLog("node-llama-cpp", "node-llama-cpp")).toBe("engine: node-llama-cpp");
    expect(describeEngineForLog("node-llama-cpp", undefined)).toMatch(/not built.*npm run build:native/);
  });
});
