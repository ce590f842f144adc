import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Command } from "commander";
import { describe, expect, it } from "vitest";
import { addRagServiceOptions } from "../../cli/rag-service-options.js";
import {
  defaultRagServiceSettings,
  httpConfigFromSettings,
  loadPromptTemplate,
  parseRagServiceSettings,
  ragConfigFromSettings,
} from "./settings.js";

describe("RAG service options", () => {
  it("has documented defaults", () => {
    const settings = defaultRagServiceSettings();
    expect(settings).toMatchObject({ port: 3000, retrievalMode: "hybrid", k: 3, expandQueries: 3, selfQuery: "match" });
    const config = ragConfigFromSettings(settings);
    expect(config.categories).toEqual(["articles", "posts", "repositories"]);
    expect(config.promptTemplate).toBe("chat");
    expect(httpConfigFromSettings(settings)).toEqual({
      maxGenerations: 8,
      apiKeys: [],
      rateLimit: { max: 120, timeWindowMs: 60_000 },
      bodyLimitBytes: 65_536,
      authFailureLimit: { max: 10, windowMs: 60_000 },
      timeouts: { headersTimeoutMs: 10_000, receiveTimeoutMs: 30_000, keepAliveTimeoutMs: 72_000 },
    });
  });

  it("reads environment variables through commander, flags winning", async () => {
    const command = addRagServiceOptions(new Command("serve-rag").exitOverride());
    let captured: Record<string, unknown> = {};
    command.action((options: Record<string, unknown>) => {
      captured = options;
    });
    process.env.LLM_TWIN_K = "7";
    process.env.LLM_TWIN_API_KEYS = " a, b ,";
    try {
      await command.parseAsync(["--retrieval-mode", "lexical", "--rate-limit", "0"], { from: "user" });
    } finally {
      delete process.env.LLM_TWIN_K;
      delete process.env.LLM_TWIN_API_KEYS;
    }
    const settings = parseRagServiceSettings(captured);
    expect(settings.k).toBe(7);
    expect(settings.retrievalMode).toBe("lexical");
    expect(httpConfigFromSettings(settings)).toMatchObject({ apiKeys: ["a", "b"], rateLimit: false });
  });

  it("fails fast, naming the flag and the variable", () => {
    expect(() => defaultRagServiceSettings({ retrievalMode: "semantic" })).toThrow(
      /--retrieval-mode \(LLM_TWIN_RETRIEVAL_MODE\)/,
    );
    expect(() => defaultRagServiceSettings({ k: "zero" })).toThrow(/--k \(LLM_TWIN_K\)/);
    expect(() => defaultRagServiceSettings({ categories: "articles,videos" })).toThrow(
      /--categories \(LLM_TWIN_CATEGORIES\)/,
    );
    expect(() => defaultRagServiceSettings({ k: "80" })).toThrow(/--k \(80\) exceeds --max-k/);
  });

  it("loads a custom prompt template from a file and checks its placeholders", async () => {
    const directory = await mkdtemp(join(tmpdir(), "llm-twin-template-"));
    try {
      const good = join(directory, "good.txt");
      const bad = join(directory, "bad.txt");
      await writeFile(good, "Q: {query}\nC: {context}\nA:");
      await writeFile(bad, "Q: {query}");
      expect(loadPromptTemplate(good)).toEqual({ custom: "Q: {query}\nC: {context}\nA:" });
      expect(() => loadPromptTemplate(bad)).toThrow(/\{context\}/);
      expect(() => loadPromptTemplate(join(directory, "missing.txt"))).toThrow(
        /neither chat, alpaca nor a readable file/,
      );
      expect(loadPromptTemplate("alpaca")).toBe("alpaca");
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });
});
