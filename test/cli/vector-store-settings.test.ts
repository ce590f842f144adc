/** The store limits' settings: defaults as the adapters have them, and the options they turn into. */
import { describe, expect, it } from "vitest";
import { defaultText, parseSettingValues } from "../../src/config/settings.js";
import { DEFAULT_MEMORY_INDEX_SETTINGS } from "../../src/vector-store/lancedb/memory-index.js";
import { QDRANT_DEFAULTS } from "../../src/vector-store/qdrant/options.js";
import { VECTOR_STORE_SETTINGS, vectorStoreOptions } from "../../src/vector-store/settings.js";

const documented = (key: string) =>
  defaultText(VECTOR_STORE_SETTINGS.find((setting) => setting.key === key) ?? VECTOR_STORE_SETTINGS[0]);

describe("vector store settings", () => {
  it("document the adapters' own defaults", () => {
    expect(documented("lancedbMemoryIndexMb")).toBe(String(DEFAULT_MEMORY_INDEX_SETTINGS.maxMegabytes));
    expect(documented("lancedbExactScanRows")).toBe(String(DEFAULT_MEMORY_INDEX_SETTINGS.maxScanRows));
    expect(documented("lancedbFirstBuildWaitMs")).toBe(String(DEFAULT_MEMORY_INDEX_SETTINGS.firstBuildWaitMs));
    expect(documented("qdrantTimeoutMs")).toBe(String(QDRANT_DEFAULTS.timeoutMs));
    expect(documented("qdrantRetries")).toBe(String(QDRANT_DEFAULTS.retries));
    expect(documented("qdrantMaxRequestBytes")).toBe(String(QDRANT_DEFAULTS.maxRequestBytes));
    expect(documented("qdrantShards")).toBe(String(QDRANT_DEFAULTS.shardNumber));
  });

  it("pass only the values given to the adapters, and name flag and variable of a bad one", () => {
    expect(vectorStoreOptions(parseSettingValues(VECTOR_STORE_SETTINGS, {}))).toEqual({
      lancedb: { memoryIndex: {} },
      qdrant: {},
    });
    const settings = parseSettingValues(VECTOR_STORE_SETTINGS, { lancedbMemoryIndexMb: "0", qdrantShards: "2" });
    expect(vectorStoreOptions(settings)).toEqual({
      lancedb: { memoryIndex: { maxMegabytes: 0 } },
      qdrant: { shardNumber: 2 },
    });
    expect(() => parseSettingValues(VECTOR_STORE_SETTINGS, { qdrantTimeoutMs: "soon" })).toThrow(
      /--qdrant-timeout-ms \(LLM_TWIN_QDRANT_TIMEOUT_MS\)/,
    );
  });
});
