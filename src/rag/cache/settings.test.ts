import { describe, expect, it } from "vitest";
import { AppError } from "../../errors/index.js";
import { defaultRagServiceSettings } from "../service/settings.js";
import { openAnswerCache } from "./index.js";

describe("answer cache flags", () => {
  it("default to an in-memory cache with the documented bounds", async () => {
    const settings = defaultRagServiceSettings();
    expect(settings).toMatchObject({
      cache: "memory",
      cacheSimilarity: 0.95,
      cacheMaxEntries: 1000,
      cacheTtlSeconds: 3600,
      cacheMaxTemperature: 0.3,
      cacheTimeoutMs: 500,
    });
    const cache = await openAnswerCache({
      cache: settings.cache,
      maxEntries: settings.cacheMaxEntries,
      ttlSeconds: settings.cacheTtlSeconds,
      timeoutMs: settings.cacheTimeoutMs,
    });
    expect(cache?.kind).toBe("memory");
    expect(await openAnswerCache({ cache: "off", maxEntries: 1, ttlSeconds: 1, timeoutMs: 1 })).toBeUndefined();
  });

  it.each([
    ["cache", "redis:/nowhere", /--cache \(LLM_TWIN_CACHE\): must be memory, off or a redis:\/\//],
    ["cacheSimilarity", "1.5", /--cache-similarity \(LLM_TWIN_CACHE_SIMILARITY\)/],
    ["cacheMaxEntries", "0", /--cache-max-entries \(LLM_TWIN_CACHE_MAX_ENTRIES\)/],
    ["cacheTtlSeconds", "-1", /--cache-ttl-seconds \(LLM_TWIN_CACHE_TTL_SECONDS\)/],
    ["cacheMaxTemperature", "3", /--cache-max-temperature \(LLM_TWIN_CACHE_MAX_TEMPERATURE\)/],
    ["cacheTimeoutMs", "0", /--cache-timeout-ms \(LLM_TWIN_CACHE_TIMEOUT_MS\)/],
  ])("rejects a bad %s with one line naming the flag and the variable", (key, value, message) => {
    let failure: unknown;
    try {
      defaultRagServiceSettings({ [key]: value });
    } catch (error) {
      failure = error;
    }
    expect(failure).toBeInstanceOf(AppError);
    expect((failure as AppError).code).toBe("configuration_error");
    expect((failure as AppError).message).toMatch(message);
  });
});
