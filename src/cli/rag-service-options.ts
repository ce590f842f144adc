/** Commander options of the RAG service's settings (src/rag/service/options.ts), shared by `serve-rag` and `serve`. */
import type { Command } from "commander";
import { RAG_SERVICE_OPTIONS } from "../rag/service/options.js";
import { addSettingOptions } from "./settings-options.js";

export function addRagServiceOptions(command: Command): Command {
  return addSettingOptions(command, RAG_SERVICE_OPTIONS);
}
