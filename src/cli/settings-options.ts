/** Commander options from the configuration registry (src/config/settings.ts): the only place flags are declared. */
import { type Command, Option } from "commander";
import { helpLine, type Setting } from "../config/settings.js";

/** Adds one option per setting: flag, variable, default, choices; help reads "… (env: X, default: Y)". */
export function addSettingOptions(command: Command, settings: readonly Setting[]): Command {
  for (const setting of settings) {
    const option = new Option(setting.flag, helpLine(setting)).env(setting.env);
    if (setting.default !== undefined) option.default(setting.default);
    if (setting.choices !== undefined) option.choices(setting.choices);
    if (setting.required === true) option.makeOptionMandatory();
    command.addOption(option);
  }
  // The registry's line already says the variable, default and choices: commander's own suffix would repeat them.
  command.configureHelp({ optionDescription: (option) => option.description });
  return command;
}
