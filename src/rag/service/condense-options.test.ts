import { Command } from "commander";
import { describe, expect, it } from "vitest";
import { addRagServiceOptions } from "../../cli/rag-service-options.js";
import { defaultRagServiceSettings, parseRagServiceSettings, ragConfigFromSettings } from "./settings.js";

describe("the condense check's options", () => {
  it("default to 0.8 word share and 0.5 overlap", () => {
    const config = ragConfigFromSettings(defaultRagServiceSettings());
    expect(config).toMatchObject({ condenseMinWordShare: 0.8, condenseMinOverlap: 0.5 });
  });

  it("read the flag and the environment variable, the flag winning", async () => {
    const command = addRagServiceOptions(new Command("serve-rag").exitOverride());
    let captured: Record<string, unknown> = {};
    command.action((options: Record<string, unknown>) => {
      captured = options;
    });
    process.env.LLM_TWIN_CONDENSE_MIN_OVERLAP = "0.25";
    process.env.LLM_TWIN_CONDENSE_MIN_WORD_SHARE = "0.6";
    try {
      await command.parseAsync(["--condense-min-word-share", "0"], { from: "user" });
    } finally {
      delete process.env.LLM_TWIN_CONDENSE_MIN_OVERLAP;
      delete process.env.LLM_TWIN_CONDENSE_MIN_WORD_SHARE;
    }
    const config = ragConfigFromSettings(parseRagServiceSettings(captured));
    expect(config).toMatchObject({ condenseMinWordShare: 0, condenseMinOverlap: 0.25 });
  });

  it("refuse a share outside 0-1, naming the flag and the variable", () => {
    expect(() => defaultRagServiceSettings({ condenseMinOverlap: "1.5" })).toThrow(
      /--condense-min-overlap \(LLM_TWIN_CONDENSE_MIN_OVERLAP\)/,
    );
    expect(() => defaultRagServiceSettings({ condenseMinWordShare: "most" })).toThrow(
      /--condense-min-word-share \(LLM_TWIN_CONDENSE_MIN_WORD_SHARE\)/,
    );
  });
});
