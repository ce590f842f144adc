/** Registry settings become commander options that read their variable; parsing names flag and variable. */
import { Command } from "commander";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { addSettingOptions, settingOf } from "../../src/cli/settings-options.js";
import { parseSettingValues, type Setting, valuesFromOptions } from "../../src/config/settings.js";

const SETTINGS = [
  {
    key: "size",
    flag: "--size <n>",
    env: "LLM_TWIN_TEST_SIZE",
    schema: z.coerce.number().int(),
    default: "3",
    help: "a size",
  },
  {
    key: "timeoutSeconds",
    flag: "--timeout <seconds>",
    env: "LLM_TWIN_TEST_TIMEOUT",
    alsoEnv: "LLM_TWIN_TEST_OTHER_TIMEOUT",
    schema: z.coerce.number().optional(),
    help: "a timeout under another name in the configuration",
  },
  {
    key: "items",
    flag: "--item <name>",
    env: "LLM_TWIN_TEST_ITEMS",
    schema: z.array(z.string()).default([]),
    repeatable: true,
    help: "repeatable",
  },
  {
    key: "pairs",
    flag: "--pair <KEY=VALUE>",
    env: "LLM_TWIN_TEST_PAIRS",
    schema: z.array(z.string()).default([]),
    repeatable: true,
    keepCommas: true,
    help: "repeatable, values may hold commas",
  },
] as const satisfies readonly Setting[];

async function parse(argv: string[], env: Record<string, string> = {}): Promise<Record<string, unknown>> {
  const command = addSettingOptions(new Command("test").exitOverride(), SETTINGS);
  let options: Record<string, unknown> = {};
  command.action((parsed: Record<string, unknown>) => {
    options = parsed;
  });
  const saved = { ...process.env };
  Object.assign(process.env, env);
  try {
    await command.parseAsync(argv, { from: "user" });
    return valuesFromOptions(SETTINGS, options);
  } finally {
    for (const name of Object.keys(env)) if (saved[name] === undefined) delete process.env[name];
  }
}

describe("addSettingOptions", () => {
  it("prints help, variable and default one way and remembers each option's setting", () => {
    const command = addSettingOptions(new Command("test"), SETTINGS);
    const help = command.helpInformation().replace(/\s+/g, " ");
    expect(help).toContain("a size (env: LLM_TWIN_TEST_SIZE, default: 3)");
    expect(help).not.toContain('(default: "3"');
    expect(command.options.map((option) => settingOf(option)?.key)).toEqual([
      "size",
      "timeoutSeconds",
      "items",
      "pairs",
    ]);
  });

  it("reads flags over variables over defaults, renames keys and collects repeatable flags", async () => {
    expect(await parse([])).toEqual({ size: "3", timeoutSeconds: undefined, items: undefined, pairs: undefined });
    const values = await parse(["--timeout", "5", "--item", "a", "--item", "b,c"], {
      LLM_TWIN_TEST_SIZE: "7",
      LLM_TWIN_TEST_OTHER_TIMEOUT: "9",
    });
    expect(parseSettingValues(SETTINGS, values)).toEqual({
      size: 7,
      timeoutSeconds: 5,
      items: ["a", "b", "c"],
      pairs: [],
    });
    expect(await parse(["--pair", "A=1,2", "--pair", "B=3"])).toMatchObject({ pairs: ["A=1,2", "B=3"] });
    expect(await parse([], { LLM_TWIN_TEST_PAIRS: "A=1,B=2" })).toMatchObject({ pairs: ["A=1", "B=2"] });
    expect(await parse([], { LLM_TWIN_TEST_OTHER_TIMEOUT: "9", LLM_TWIN_TEST_ITEMS: "x,y" })).toMatchObject({
      timeoutSeconds: "9",
      items: ["x", "y"],
    });
  });

  it("reads a switch's variable as true or false", async () => {
    const SWITCHES = [
      { key: "json", flag: "--json", env: "LLM_TWIN_TEST_JSON", schema: z.boolean().default(false), help: "json" },
      { key: "ingest", flag: "--no-ingest", env: "LLM_TWIN_TEST_NO_INGEST", schema: z.boolean(), help: "skip" },
    ] as const satisfies readonly Setting[];
    const read = async (env: Record<string, string>) => {
      const command = addSettingOptions(new Command("test").exitOverride(), SWITCHES);
      Object.assign(process.env, env);
      try {
        await command.parseAsync([], { from: "user" });
        return command.opts();
      } finally {
        for (const name of Object.keys(env)) delete process.env[name];
      }
    };
    expect(await read({ LLM_TWIN_TEST_JSON: "false", LLM_TWIN_TEST_NO_INGEST: "1" })).toEqual({
      json: false,
      ingest: false,
    });
    expect(await read({ LLM_TWIN_TEST_JSON: "yes", LLM_TWIN_TEST_NO_INGEST: "off" })).toEqual({
      json: true,
      ingest: true,
    });
    await expect(read({ LLM_TWIN_TEST_JSON: "maybe" })).rejects.toThrow(
      /--json \(LLM_TWIN_TEST_JSON\): expected true or false/,
    );
  });

  it("says a missing required setting is required, an enum included", () => {
    const required = [
      {
        key: "kind",
        flag: "--kind <kind>",
        env: "LLM_TWIN_TEST_KIND",
        schema: z.enum(["base", "adapter"]),
        required: true,
        help: "k",
      },
    ] as const satisfies readonly Setting[];
    for (const values of [{}, { kind: "" }]) {
      expect(() => parseSettingValues(required, values)).toThrow(
        "invalid configuration: --kind (LLM_TWIN_TEST_KIND): required (give the flag or set the variable)",
      );
    }
    expect(() => parseSettingValues(required, { kind: "other" })).toThrow(
      /--kind \(LLM_TWIN_TEST_KIND\): .* \(got "other"\)/,
    );
  });

  it("fails with one line naming the flag and the variables of each problem", async () => {
    const values = await parse(["--size", "big"], { LLM_TWIN_TEST_OTHER_TIMEOUT: "soon" });
    expect(() => parseSettingValues(SETTINGS, values)).toThrow(
      /--size \(LLM_TWIN_TEST_SIZE\): .* \(got "big"\); --timeout \(LLM_TWIN_TEST_TIMEOUT or LLM_TWIN_TEST_OTHER_TIMEOUT\): .* \(got "soon"\)/,
    );
    try {
      parseSettingValues(SETTINGS, values);
    } catch (error) {
      expect(error).toMatchObject({ code: "configuration_error" });
    }
  });
});
