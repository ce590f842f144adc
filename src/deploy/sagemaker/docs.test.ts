import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { DEPLOY_OPTIONS } from "./options.js";

describe("docs/deploy-sagemaker.md", () => {
  it("documents every option with its flag and environment variable", async () => {
    const documentation = await readFile(new URL("../../../docs/deploy-sagemaker.md", import.meta.url), "utf8");
    for (const option of DEPLOY_OPTIONS) {
      expect(documentation, option.flag).toContain(`\`${option.flag.split(" ")[0]}`);
      expect(documentation, option.env).toContain(`\`${option.env}\``);
    }
  });
});
