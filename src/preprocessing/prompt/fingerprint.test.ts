import { describe, expect, it } from "vitest";
import { createPromptFingerprint, currentPromptFingerprint, renderPromptTemplates } from "./fingerprint.js";
import { CONDENSE_PROMPT_VERSION, PROMPT_TEMPLATES_VERSION } from "./templates.js";

describe("prompt templates fingerprint", () => {
  it("records the serving and condensing template versions, hashed with what the templates render", () => {
    const fingerprint = createPromptFingerprint();
    expect(fingerprint.versions).toEqual({ prompt: PROMPT_TEMPLATES_VERSION, condense: CONDENSE_PROMPT_VERSION });
    expect(fingerprint.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(createPromptFingerprint().hash).toBe(fingerprint.hash);
    expect(currentPromptFingerprint()).toEqual(fingerprint);
    expect(renderPromptTemplates().condense).toContain("{question}");
  });

  it("changes when the condense template's version changes", () => {
    const base = createPromptFingerprint();
    const bumped = createPromptFingerprint({ versions: { condense: "condense-v2" } });
    expect(bumped.versions.condense).toBe("condense-v2");
    expect(bumped.versions.prompt).toBe(PROMPT_TEMPLATES_VERSION);
    expect(bumped.hash).not.toBe(base.hash);
    expect(createPromptFingerprint({ versions: { prompt: "prompt-v9" } }).hash).not.toBe(base.hash);
  });

  it("changes when the condense template's wording changes, even without a version bump", () => {
    const base = createPromptFingerprint();
    const renderings = renderPromptTemplates();
    const reworded = { ...renderings, condense: renderings.condense.replace("standalone", "self-contained") };
    expect(reworded.condense).not.toBe(renderings.condense);
    expect(createPromptFingerprint({ renderings: reworded }).hash).not.toBe(base.hash);
  });
});
