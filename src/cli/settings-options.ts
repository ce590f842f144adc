/** Commander options from the configuration registry (src/config/settings.ts): the only place flags are declared. */
import { type Command, Option } from "commander";
import { helpLine, isSwitch, type Setting, switchFromVariable } from "../config/settings.js";

const fromRegistry = new WeakMap<Option, Setting>();

/** The registry setting an option was made from (undefined for an option declared by hand). */
export function settingOf(option: Option): Setting | undefined {
  return fromRegistry.get(option);
}

const items = (value: string) => value.split(",").filter((part) => part.trim() !== "");

/** A repeatable flag collects its values; its variable holds a comma-separated list. */
function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), ...items(value)];
}

function collectWhole(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/**
 * Adds one option per setting: flag, variable, default; help reads "… (env: X, default: Y)".
 * Values (choices and required ones included) are validated by the settings' schemas, whose errors
 * name the flag and the variable, rather than by commander. A switch's variable is read as true or false.
 */
export function addSettingOptions(command: Command, settings: readonly Setting[]): Command {
  for (const setting of settings) {
    const option = new Option(setting.flag, helpLine(setting)).env(setting.env);
    if (setting.default !== undefined) option.default(setting.default);
    if (setting.repeatable === true) option.argParser(setting.keepCommas === true ? collectWhole : collect);
    fromRegistry.set(option, setting);
    command.addOption(option);
    if (isSwitch(setting)) {
      // Commander turns a switch on whenever its variable is set; "false" must turn it off.
      command.on(`optionEnv:${option.name()}`, () => {
        const on = switchFromVariable(setting, process.env[setting.env] ?? "");
        command.setOptionValueWithSource(option.attributeName(), option.negate ? !on : on, "env");
      });
    }
    if (setting.repeatable === true && setting.keepCommas === true) {
      command.on(`optionEnv:${option.name()}`, () => {
        command.setOptionValueWithSource(option.attributeName(), items(process.env[setting.env] ?? ""), "env");
      });
    }
    if (setting.negatable !== undefined) {
      const opposite = new Option(`--no-${option.name()}`, `${setting.negatable} (env: ${setting.env}=false)`);
      fromRegistry.set(opposite, setting);
      command.addOption(opposite);
    }
  }
  // The registry's line already says the variable, default and choices: commander's own suffix would repeat them.
  command.configureHelp({ optionDescription: (option) => option.description });
  return command;
}
