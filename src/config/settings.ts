/**
 * The configuration registry: each setting declared once — its flag, its LLM_TWIN_* variable, its
 * zod type and bounds, its default and its one-line help. Commander options and `--help` text
 * (src/cli/settings-options.ts), validation errors naming flag and variable (`parseSettings`) and
 * the settings tables in docs/ (`settingsTable`, checked by test/docs/settings-tables.test.ts) all
 * come from it.
 *
 * Adding a setting: append one entry to the command's list, e.g.
 *   { key: "maxFoo", flag: "--max-foo <n>", env: "LLM_TWIN_MAX_FOO", schema: schemas.positiveInteger,
 *     default: "8", help: "largest foo per request" },
 * (`key` is the flag in camelCase, as commander names it), read it from the typed object that
 * `parseSettingValues(LIST, raw)` returns (lists are declared `[...] as const satisfies readonly
 * Setting[]`), and run `npm run docs:settings` to refresh the docs table. Where the lists live:
 * src/config/settings-docs.ts names every one. No commander here: only src/cli imports it.
 */
import { z } from "zod";
import { AppError } from "../errors/index.js";

export type Setting = {
  /**
   * The value's name in the parsed object: the flag in camelCase, as commander names it
   * ("--max-k" → "maxK"; "--no-x" → "x"), unless the configuration calls it otherwise
   * (`valuesFromOptions` renames).
   */
  key: string;
  /** Commander flag syntax: "--k <n>", "--json", "--no-report". */
  flag: string;
  /** Its environment variable; every setting has one. */
  env: string;
  /** Another variable read when neither the flag nor `env` is set (SageMaker's SAGEMAKER_BIND_TO_PORT). */
  alsoEnv?: string;
  /** Validates and converts the raw string (or boolean) from the flag, the variable or the default. */
  schema: z.ZodType;
  /** The default as a user would type it; none = unset unless given. */
  default?: string;
  /** How the default reads in help and docs when it is not a literal value ("every core"). */
  defaultText?: string;
  /** Allowed values, listed in help and checked by commander. */
  choices?: readonly string[];
  required?: boolean;
  /**
   * For a switch ("--wait"): also declare its opposite "--no-wait" with this help. The variable of a
   * switch holds true or false (1/0, yes/no, on/off; set but empty = true).
   */
  negatable?: string;
  /**
   * The flag may be repeated and its variable holds a comma-separated list: the value is a string
   * array. Each flag value is split at commas too, unless `keepCommas` (values such as KEY=a,b).
   */
  repeatable?: boolean;
  keepCommas?: boolean;
  /**
   * An empty value (`--x ""`, `LLM_TWIN_X=`) goes to the schema instead of reading as unset: for a
   * setting where empty would silently turn something off (--api-keys), so the schema can refuse it.
   */
  emptyIsValue?: boolean;
  help: string;
};

/** The default as help and docs print it. */
export function defaultText(setting: Setting): string {
  if (setting.defaultText !== undefined) return setting.defaultText;
  if (setting.default !== undefined) return setting.default === "" ? '""' : setting.default;
  if (setting.required === true) return "required";
  return "none";
}

/** One line of `--help`: the help, then `(env: X, default: Y)` — the same way for every command. */
export function helpLine(setting: Setting): string {
  const choices = setting.choices === undefined ? "" : ` (${setting.choices.join(" | ")})`;
  const rest =
    setting.required === true && setting.default === undefined ? "required" : `default: ${defaultText(setting)}`;
  return `${setting.help}${choices} (env: ${setting.env}, ${rest})`;
}

/** A switch takes no value ("--json", "--no-artifacts"). */
export function isSwitch(setting: Setting): boolean {
  return !/[<[]/.test(setting.flag);
}

/** A switch's variable: true/1/yes/on (or set but empty) and false/0/no/off; anything else fails naming flag and variable. */
export function switchFromVariable(setting: Setting, text: string): boolean {
  if (/^(|1|true|yes|on)$/i.test(text.trim())) return true;
  if (/^(0|false|no|off)$/i.test(text.trim())) return false;
  throw new AppError(
    "configuration_error",
    `invalid configuration: ${settingName(setting)}: expected true or false (got ${JSON.stringify(text)})`,
  );
}

/** The first word of the flag, e.g. "--max-k". */
export function flagName(setting: Setting): string {
  return setting.flag.split(" ")[0] ?? setting.flag;
}

/** The name commander gives the flag's value: "--max-k" → "maxK", "--no-ingest" → "ingest". */
export function optionAttribute(setting: Setting): string {
  return flagName(setting)
    .replace(/^--(no-)?/, "")
    .replace(/-([a-z0-9])/g, (_match, letter: string) => letter.toUpperCase());
}

/** The values commander parsed, named by each setting's `key`, `alsoEnv` applied where nothing else was given. */
export function valuesFromOptions(
  settings: readonly Setting[],
  options: Record<string, unknown>,
  env: NodeJS.ProcessEnv = process.env,
): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  for (const setting of settings) {
    const value = options[optionAttribute(setting)];
    values[setting.key] = value === undefined && setting.alsoEnv !== undefined ? env[setting.alsoEnv] : value;
  }
  return values;
}

/** How errors name a setting: "--max-k (LLM_TWIN_MAX_K)". */
export function settingName(setting: Setting): string {
  const variables = setting.alsoEnv === undefined ? setting.env : `${setting.env} or ${setting.alsoEnv}`;
  return `${flagName(setting)} (${variables})`;
}

/** The raw values that were given: undefined ones dropped, and empty ones unless the setting is `emptyIsValue`. */
export function givenValues(settings: readonly Setting[], raw: Record<string, unknown>): Record<string, unknown> {
  const keepsEmpty = new Set(settings.filter((setting) => setting.emptyIsValue === true).map((setting) => setting.key));
  return Object.fromEntries(
    Object.entries(raw).filter(([key, value]) => value !== undefined && (value !== "" || keepsEmpty.has(key))),
  );
}

/**
 * Validates raw values (commander's, flags over variables over defaults) against each setting's
 * schema; the error is one line, each problem naming the flag and the variable.
 */
export function parseSettings(settings: readonly Setting[], raw: Record<string, unknown>): Record<string, unknown> {
  const shape = Object.fromEntries(
    settings.map((setting) => [setting.key, setting.required === true ? setting.schema : setting.schema.optional()]),
  );
  const cleaned = givenValues(settings, raw);
  const result = z.object(shape).safeParse(cleaned);
  if (result.success) return result.data;
  throw settingsError(settings, result.error.issues, raw);
}

type SettingOutput<S> = S extends { schema: infer Schema extends z.ZodType } ? z.output<Schema> : never;

/**
 * The typed values of a settings list declared `[...] as const satisfies readonly Setting[]`:
 * one property per key, optional where the setting's schema accepts undefined.
 */
export type SettingsValues<T extends readonly Setting[]> = {
  [S in T[number] as undefined extends SettingOutput<S> ? never : S["key"]]: SettingOutput<S>;
} & { [S in T[number] as undefined extends SettingOutput<S> ? S["key"] : never]?: SettingOutput<S> };

/**
 * Validates raw values against each setting's schema as declared (a setting is optional only when
 * its schema says so), typed from the list; the error is one line, each problem naming the flag and the variable.
 * Keys that are not settings are dropped.
 */
export function parseSettingValues<const T extends readonly Setting[]>(
  settings: T,
  raw: Record<string, unknown>,
): SettingsValues<T> {
  const shape = Object.fromEntries(settings.map((setting) => [setting.key, setting.schema]));
  const cleaned = givenValues(settings, raw);
  const result = z.object(shape).safeParse(cleaned);
  if (result.success) return result.data as SettingsValues<T>;
  throw settingsError(settings, result.error.issues, raw);
}

/** The raw values the defaults give (what commander fills in when neither flag nor variable is set). */
export function settingDefaults(settings: readonly Setting[]): Record<string, string> {
  const defaults: Record<string, string> = {};
  for (const setting of settings) if (setting.default !== undefined) defaults[setting.key] = setting.default;
  return defaults;
}

/** The error for failed validation: one line, each problem naming the flag and its variable. */
export function settingsError(
  settings: readonly Setting[],
  issues: readonly z.core.$ZodIssue[],
  raw: Record<string, unknown>,
): AppError {
  const lines = issues.map((issue) => {
    const key = String(issue.path[0] ?? "");
    const setting = settings.find((candidate) => candidate.key === key);
    const name = setting === undefined ? key : settingName(setting);
    // Missing (or empty): an enum says invalid_value, not invalid_type, and its text lists choices only.
    if (
      (raw[key] === undefined || raw[key] === "") &&
      (issue.code === "invalid_type" || issue.code === "invalid_value")
    )
      return `${name}: required (give the flag or set the variable)`;
    const got = raw[key] === undefined ? "" : ` (got ${JSON.stringify(raw[key])})`;
    return `${name}: ${issue.message}${got}`;
  });
  return new AppError("configuration_error", `invalid configuration: ${lines.join("; ")}`);
}

/** The Markdown table of `settings` for docs/: flag, variable, default, meaning. */
export function settingsTable(settings: readonly Setting[]): string {
  const cell = (text: string) => text.replaceAll("|", "\\|");
  const rows = settings.map((setting) => {
    const choices =
      setting.choices === undefined ? "" : ` (${setting.choices.map((choice) => `\`${choice}\``).join(", ")})`;
    const flag =
      setting.negatable === undefined ? setting.flag : `${setting.flag}\` / \`--no-${flagName(setting).slice(2)}`;
    return `| \`${cell(flag)}\` | \`${setting.env}\` | ${cell(defaultText(setting))} | ${cell(setting.help)}${choices} |`;
  });
  return ["| flag | variable | default | meaning |", "|---|---|---|---|", ...rows].join("\n");
}

/** Reusable schemas: raw values are strings (flags, variables) or booleans (switches). */
/** The `--json` switch (LLM_TWIN_JSON) of a command that prints JSON on request; `help` says what it prints. */
export function jsonOutputSetting<const Help extends string>(help: Help) {
  return {
    key: "json",
    flag: "--json",
    env: "LLM_TWIN_JSON",
    schema: z.boolean().default(false),
    defaultText: "false",
    help,
  } as const satisfies Setting;
}

export const schemas = {
  positiveInteger: z.coerce
    .number({ error: "must be a number" })
    .int("must be an integer")
    .positive("must be positive"),
  text: z.string().trim().min(1, "must not be empty"),
  unit: z.coerce.number({ error: "must be a number" }).min(0, "must be within 0..1").max(1, "must be within 0..1"),
  flag: z.boolean(),
  /**
   * Comma-separated keys (--api-keys): spaces around a key and empty entries ("a,,b", a trailing
   * comma) are dropped; a list with no key at all is refused (with `emptyIsValue`, "" included).
   */
  keyList: z
    .string()
    .transform((value) =>
      value
        .split(",")
        .map((key) => key.trim())
        .filter((key) => key !== ""),
    )
    .pipe(
      z
        .array(z.string())
        .min(1, "lists no key: give at least one key, or leave the flag and the variable unset for no authentication"),
    ),
};
