/**
 * `llm-twin watermark-detect`: whether a text carries serve-llm's watermark (TGI `watermark: true`;
 * src/llm/watermark): tokens scored, green fraction, z-score and a verdict (z ≥ 4: watermarked).
 */
import { readFile } from "node:fs/promises";
import type { Command } from "commander";
import { parseSettingValues } from "../../config/settings.js";
import { AppError } from "../../errors/index.js";
import { addSettingOptions } from "../settings-options.js";
import { WATERMARK_DETECT_SETTINGS } from "./watermark-detect-settings.js";

export const WATERMARK_DETECT_SUMMARY =
  "Check whether a text carries serve-llm's watermark (TGI watermark: true): green fraction, z-score, verdict";

async function readText(options: { text?: string | undefined; file?: string | undefined }): Promise<string> {
  if (options.text !== undefined && options.file !== undefined) {
    throw new AppError("bad_request", "give either --text or --file, not both");
  }
  if (options.file !== undefined) {
    let content: string;
    try {
      content = await readFile(options.file, "utf8");
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw new AppError(
        "not_found",
        `Cannot read --file ${options.file} (${code ?? "error"}): give a readable text file`,
      );
    }
    if (content.trim() === "") throw new AppError("bad_request", `--file ${options.file} is empty: nothing to check`);
    return content;
  }
  if (options.text === undefined || options.text.trim() === "") {
    throw new AppError("bad_request", "no text to check: give --text <string> or --file <path>");
  }
  return options.text;
}

export function registerWatermarkDetectCommand(program: Command): void {
  addSettingOptions(
    program.command("watermark-detect").description(WATERMARK_DETECT_SUMMARY),
    WATERMARK_DETECT_SETTINGS,
  ).action(async (raw: Record<string, unknown>) => {
    const options = parseSettingValues(WATERMARK_DETECT_SETTINGS, raw);
    const text = await readText(options);
    const { detectWatermark, WATERMARK_Z_THRESHOLD } = await import("../../llm/watermark/index.js");
    const { tokenizeWithVocabulary } = await import("../../llm/watermark/vocabulary-tokens.js");
    const ids = await tokenizeWithVocabulary(options.model, text);
    const result = detectWatermark(ids, { gamma: options.gamma });
    if (options.json) {
      process.stdout.write(`${JSON.stringify({ ...result, gamma: options.gamma })}\n`);
      return;
    }
    const verdict = result.watermarked
      ? `watermarked (z ≥ ${WATERMARK_Z_THRESHOLD})`
      : result.tokens < 16
        ? `too short to tell (${result.tokens} tokens scored; a few dozen are needed)`
        : `not watermarked (z < ${WATERMARK_Z_THRESHOLD})`;
    const lines = [
      `tokens scored   ${result.tokens}`,
      `green           ${result.green} (${(result.greenFraction * 100).toFixed(1)}%, chance ${(options.gamma * 100).toFixed(1)}%)`,
      `z-score         ${result.z.toFixed(2)}`,
      `verdict         ${verdict}`,
    ];
    process.stdout.write(`${lines.join("\n")}\n`);
  });
}
