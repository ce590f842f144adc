/** `watermark-detect`'s settings in the configuration registry (src/config/settings.ts). */
import { z } from "zod";
import { jsonOutputSetting, type Setting } from "../../config/settings.js";
import { DEFAULT_WATERMARK_GAMMA } from "../../llm/watermark/watermark-rule.js";

const text = z.string().min(1, "must not be empty");

export const WATERMARK_DETECT_SETTINGS = [
  {
    key: "model",
    flag: "--model <gguf>",
    env: "LLM_TWIN_WATERMARK_DETECT_MODEL",
    schema: z.string({ error: "required: the GGUF model that generated the text" }).min(1, "must not be empty"),
    required: true,
    help: "GGUF model whose vocabulary tokenizes the text (the served model; only its vocabulary is read)",
  },
  {
    key: "text",
    flag: "--text <string>",
    env: "LLM_TWIN_WATERMARK_DETECT_TEXT",
    schema: text.optional(),
    help: "the text to check (or --file)",
  },
  {
    key: "file",
    flag: "--file <path>",
    env: "LLM_TWIN_WATERMARK_DETECT_FILE",
    schema: text.optional(),
    help: "a UTF-8 file holding the text to check (or --text)",
  },
  {
    key: "gamma",
    flag: "--gamma <fraction>",
    env: "LLM_TWIN_WATERMARK_DETECT_GAMMA",
    schema: z.coerce.number().gt(0, "must be > 0").lt(1, "must be < 1"),
    default: String(DEFAULT_WATERMARK_GAMMA),
    help: "the green-list fraction the server used (serve-llm --watermark-gamma; 0 < g < 1)",
  },
  jsonOutputSetting("print {tokens, green, greenFraction, z, watermarked, gamma} as JSON on stdout"),
] as const satisfies readonly Setting[];
