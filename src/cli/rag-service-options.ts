/** Commander options from the RAG service's flag table (src/rag/service/options.ts), shared by `serve-rag` and `serve`. */
import { type Command, Option } from "commander";
import { type OptionSpec, RAG_SERVICE_OPTIONS } from "../rag/service/options.js";

export function addOptions(command: Command, specs: readonly OptionSpec[]): Command {
  for (const spec of specs) {
    const option = new Option(spec.flags, spec.description).env(spec.env);
    if (spec.default !== undefined) option.default(spec.default);
    command.addOption(option);
  }
  return command;
}

export function addRagServiceOptions(command: Command): Command {
  return addOptions(command, RAG_SERVICE_OPTIONS);
}
